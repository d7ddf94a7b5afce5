import sys

from beacon_gql.cli.main import main

sys.exit(main())
