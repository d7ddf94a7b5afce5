"""schema.graphql is what `beacon-gql export-schema` writes from the code."""

from __future__ import annotations

from pathlib import Path

from beacon_gql.schema import create_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == create_schema().as_str() + "\n", (
        "schema.graphql is out of date: run `beacon-gql export-schema -o schema.graphql`"
    )
