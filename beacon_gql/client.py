"""A small GraphQL client for the CLI (submit, watch, export), over httpx."""

from __future__ import annotations

from typing import Any

import httpx

SUBMIT = """
mutation Submit($input: SubmitBiasJobInput!) {
  submitBiasJob(input: $input) {
    idempotent
    job { id status progress { expected pending running completed failed cancelled } }
  }
}
"""


class ClientError(Exception):
    """The server refused or could not be reached; the message says which and why."""


class BeaconClient:
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = url
        self._headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._timeout = timeout

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.post(
                    self.url,
                    json={"query": query, "variables": variables or {}},
                    headers=self._headers,
                )
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach {self.url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            raise ClientError(
                f"{self.url} answered HTTP {response.status_code}, not JSON"
            ) from None
        errors = body.get("errors")
        if errors:
            first = errors[0]
            code = (first.get("extensions") or {}).get("code", "ERROR")
            raise ClientError(f"{code}: {first.get('message')}")
        data: dict[str, Any] = body["data"]
        return data

    async def submit(self, spec: object, idempotency_key: str | None) -> dict[str, Any]:
        data = await self.execute(
            SUBMIT, {"input": {"jobspec": spec, "idempotencyKey": idempotency_key}}
        )
        result: dict[str, Any] = data["submitBiasJob"]
        return result
