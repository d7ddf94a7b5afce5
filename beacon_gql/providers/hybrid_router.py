"""The predecessor's hybrid router: `POST /inference` in front of its own regional providers."""

from __future__ import annotations

from typing import Any

from beacon_gql.providers.client import GenerationRequest, GenerationResult, ProviderCallError
from beacon_gql.providers.exchange import (
    HTTPProviderClient,
    bad_response,
    bearer_auth,
    excerpt,
    read_json_object,
    says_model_missing,
)
from beacon_gql.providers.regions import Region

ROUTER_REGION_NAMES: dict[Region, str] = {
    "US": "us-east",
    "EU": "eu-west",
    "ASIA": "asia-pacific",
}
"""The router's own region names. It compared them verbatim with what it was sent, so
"US" matched nothing and any region answered: always send these."""

_HEALTHY_STATUSES = ("healthy", "ok")


class HybridRouterClient(HTTPProviderClient):
    def auth_headers(self) -> dict[str, str]:
        return bearer_auth(self.config)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        # The router has no system-prompt field, so the system prompt travels at the head
        # of the prompt; the stored execution keeps both separately.
        prompt = request.prompt
        if request.system_prompt:
            prompt = f"{request.system_prompt}\n\n{request.prompt}"
        body: dict[str, Any] = {
            "model": request.model,
            "prompt": prompt,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "region_preference": ROUTER_REGION_NAMES[request.region],
        }
        if request.top_p is not None:
            body["top_p"] = request.top_p
        response = await self.post_json(
            "/inference", body, model=request.model, max_tokens=request.max_tokens
        )
        where = f"{self.config.name}: POST /inference"
        document = read_json_object(response, where=where)
        success = document.get("success")
        if not isinstance(success, bool):
            raise bad_response(response, where=where, problem="no boolean 'success'")
        served_by = document.get("provider_used")
        served_by = served_by if isinstance(served_by, str) and served_by else None
        if not success:
            raise _router_failure(document, request.model, where=where, served_by=served_by)
        text = document.get("response")
        if not isinstance(text, str) or not text.strip():
            raise bad_response(response, where=where, problem="success without a response text")
        return GenerationResult(text=text, http_status=response.status_code, served_by=served_by)

    async def check_health(self) -> None:
        response = await self.probe("/health")
        where = f"{self.config.name}: GET /health"
        document = read_json_object(response, where=where)
        status = document.get("status")
        if status not in _HEALTHY_STATUSES:
            raise ProviderCallError(
                "PROVIDER_HTTP_ERROR",
                f"{where}: router reports status {status!r}",
                transient=True,
                http_status=response.status_code,
            )
        if document.get("providers_healthy") == 0:
            raise ProviderCallError(
                "PROVIDER_HTTP_ERROR",
                f"{where}: router has no healthy providers behind it",
                transient=True,
                http_status=response.status_code,
            )


def _router_failure(
    document: dict[str, Any], model: str, *, where: str, served_by: str | None
) -> ProviderCallError:
    """The router answered 200 with `success: false`: its own provider failed."""
    error = document.get("error")
    error_code = document.get("error_code")
    details = " ".join(str(part) for part in (error_code, error) if part)
    if served_by:
        details = f"{details} (via {served_by})"
    message = f"{where}: router reported failure: {excerpt(details) or 'no error given'}"
    # Judged like a 400 body: the router's messages name the model for unrelated failures too.
    if says_model_missing(details, model, status=400):
        return ProviderCallError("MODEL_NOT_SERVED", message, transient=False, http_status=200)
    return ProviderCallError("PROVIDER_HTTP_ERROR", message, transient=True, http_status=200)
