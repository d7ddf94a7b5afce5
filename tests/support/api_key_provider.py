"""A provider kind added the way a new protocol is: this one file, with its client class, and
one line in `beacon_gql.providers.kinds.CLIENT_CLASSES` (made by the test that uses it).

An Anthropic-style messages endpoint: the key goes in `x-api-key`, not `Authorization`.
"""

from __future__ import annotations

from typing import Any

import httpx

from beacon_gql.providers.client import GenerationRequest, GenerationResult
from beacon_gql.providers.endpoint import ProviderConfig
from beacon_gql.providers.exchange import (
    bad_response,
    exchange,
    health_check_timeout,
    read_json_object,
)

KIND = "api-key-messages"
API_VERSION = "2023-06-01"


class ApiKeyMessagesClient:
    def __init__(self, config: ProviderConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self._http = http

    def auth_headers(self) -> dict[str, str]:
        api_key = self.config.api_key()
        headers = {"anthropic-version": API_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        return headers

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "messages": [{"role": "user", "content": request.prompt}],
        }
        if request.system_prompt:
            body["system"] = request.system_prompt
        response = await exchange(
            self._http,
            self.config,
            "POST",
            "/messages",
            headers=self.auth_headers(),
            json_body=body,
            model=request.model,
        )
        where = f"{self.config.name}: POST /messages"
        document = read_json_object(response, where=where)
        content = document.get("content")
        first = content[0] if isinstance(content, list) and content else None
        text = first.get("text") if isinstance(first, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise bad_response(response, where=where, problem="no content[0].text")
        return GenerationResult(text=text, http_status=response.status_code, served_by=None)

    async def check_health(self) -> None:
        response = await exchange(
            self._http,
            self.config,
            "GET",
            "/models",
            headers=self.auth_headers(),
            timeout_s=health_check_timeout(self.config),
        )
        read_json_object(response, where=f"{self.config.name}: GET /models")
