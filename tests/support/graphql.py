"""A GraphQL client over real HTTP, returning the whole response body."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLClient:
    def __init__(self, base_url: str, *, token: str | None = None) -> None:
        self.base_url = base_url
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30)

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = await self.execute(query, variables, **kw)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def aclose(self) -> None:
        await self.http.aclose()


def error_code(body: dict[str, Any]) -> str:
    assert body.get("errors"), f"expected an error, got {body}"
    code: str = body["errors"][0]["extensions"]["code"]
    return code
