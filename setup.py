"""What pyproject.toml cannot say: the repository's top-level migrations/ ships inside the
package as beacon_gql/migrations (and migrations/versions as beacon_gql/migrations/versions),
so `pip install .`, a wheel and the Docker image can all migrate a database."""

from setuptools import find_packages, setup

MIGRATIONS = {
    "beacon_gql.migrations": "migrations",
    "beacon_gql.migrations.versions": "migrations/versions",
}

setup(
    packages=[*find_packages(include=["beacon_gql", "beacon_gql.*"]), *MIGRATIONS],
    package_dir=MIGRATIONS,
)
