"""A provider kind added the way a new protocol is: this one file, with its client class, and
one line in `beacon_gql.providers.kinds.CLIENT_CLASSES` (made by the test that uses it).

An Anthropic-style messages endpoint: the key goes in `x-api-key`, not `Authorization`.
"""

from __future__ import annotations

from typing import Any

from beacon_gql.providers.client import GenerationRequest, GenerationResult
from beacon_gql.providers.exchange import HTTPProviderClient, bad_response, read_json_object

KIND = "api-key-messages"
API_VERSION = "2023-06-01"


class ApiKeyMessagesClient(HTTPProviderClient):
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
        response = await self.post_json("/messages", body, model=request.model)
        where = f"{self.config.name}: POST /messages"
        document = read_json_object(response, where=where)
        content = document.get("content")
        first = content[0] if isinstance(content, list) and content else None
        text = first.get("text") if isinstance(first, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise bad_response(response, where=where, problem="no content[0].text")
        return GenerationResult(text=text, http_status=response.status_code, served_by=None)

    async def check_health(self) -> None:
        response = await self.probe("/models")
        read_json_object(response, where=f"{self.config.name}: GET /models")
