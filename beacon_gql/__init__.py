"""beacon_gql: a GraphQL API that runs LLM bias-detection jobs across models and regions."""

__version__ = "0.1.0"
