"""OpenAI-compatible chat completions: Ollama, vLLM, llama.cpp server, TGI, hosted APIs."""

from __future__ import annotations

from typing import Any

from beacon_gql.providers.client import GenerationRequest, GenerationResult
from beacon_gql.providers.exchange import (
    HTTPProviderClient,
    bad_response,
    bearer_auth,
    read_json_object,
)


class OpenAIClient(HTTPProviderClient):
    def auth_headers(self) -> dict[str, str]:
        return bearer_auth(self.config)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        messages = []
        if request.system_prompt:
            messages.append({"role": "system", "content": request.system_prompt})
        messages.append({"role": "user", "content": request.prompt})
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": False,
        }
        if request.top_p is not None:
            body["top_p"] = request.top_p
        response = await self.post_json(
            "/chat/completions", body, model=request.model, max_tokens=request.max_tokens
        )
        where = f"{self.config.name}: POST /chat/completions"
        document = read_json_object(response, where=where)
        text = _first_choice_text(document)
        if text is None:
            raise bad_response(response, where=where, problem="no choices[0].message.content")
        if not text.strip():
            raise bad_response(response, where=where, problem="the answer is empty")
        return GenerationResult(text=text, http_status=response.status_code, served_by=None)

    async def check_health(self) -> None:
        response = await self.probe("/models")
        read_json_object(response, where=f"{self.config.name}: GET /models")


def _first_choice_text(document: dict[str, Any]) -> str | None:
    choices = document.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return None
    content = message.get("content")
    return content if isinstance(content, str) else None
