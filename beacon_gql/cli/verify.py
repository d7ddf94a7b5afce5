"""`beacon-gql verify EXPORT.json [--keys URL|FILE]`: check a JSON export's receipts and root
offline; exit 0 when everything verifies, 1 naming each problem, 2 when it cannot check."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urljoin

import httpx

from beacon_gql.receipts.verify import report_lines, verify_export

KEYS_PATH = "/.well-known/beacon-keys.json"


class KeysUnavailable(Exception):
    """The key list cannot be read; the message says where and why."""


def keys_url(graphql_url: str) -> str:
    """The published keys of the server whose GraphQL endpoint is `graphql_url`."""
    return urljoin(graphql_url, KEYS_PATH)


async def fetch_keys(url: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=30.0) as http:
            response = await http.get(url)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise KeysUnavailable(f"cannot read the receipt keys at {url}: {error}") from None
    return _key_list(document, url)


def _load_keys(source: str) -> dict[str, Any]:
    """A key list from a URL (the server's, or anyone's copy) or a saved file."""
    if source.startswith(("http://", "https://")):
        return asyncio.run(fetch_keys(source))
    try:
        document = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KeysUnavailable(f"cannot read the key list {source}: {error}") from None
    return _key_list(document, source)


def _key_list(document: object, source: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise KeysUnavailable(f"{source} is not a key list")
    return document


def verify(
    export_path: Path, keys: str | None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    try:
        export = json.loads(export_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        err.write(f"beacon-gql verify: cannot read {export_path}: {error}\n")
        return 2
    if not isinstance(export, dict) or not isinstance(export.get("job"), dict):
        err.write(f"beacon-gql verify: {export_path} is not a beacon-gql JSON export\n")
        return 2
    if keys is None:
        document = export.get("keys")
        if not isinstance(document, dict):
            err.write(
                "beacon-gql verify: the export carries no key list; pass --keys with the "
                "server's /.well-known/beacon-keys.json (URL or saved file)\n"
            )
            return 2
        source = "the export itself (pass --keys to check them against the server's)"
    else:
        try:
            document = _load_keys(keys)
        except KeysUnavailable as error:
            err.write(f"beacon-gql verify: {error}\n")
            return 2
        source = keys
    result = verify_export(export, document)
    for line in report_lines(result, source):
        out.write(line + "\n")
    return 0 if result.ok else 1
