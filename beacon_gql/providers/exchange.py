"""One HTTP exchange with a provider, and how its failure is classified.

Both protocols share this, so a 429 or a refused connection means the same thing whichever
kind of endpoint produced it.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import orjson

from beacon_gql.providers.client import ProviderCallError
from beacon_gql.providers.endpoint import ProviderConfig

EXCERPT_CHARS = 200

HEALTH_CHECK_TIMEOUT_S = 10.0
"""A health probe answers at once or not at all; it need not wait a generation's timeout."""

_MISSING_MODEL_PHRASES = (
    "not found",
    "does not exist",
    "model_not_found",
    "unknown model",
    "no such model",
    "not served",
    "not supported",
)


BYTES_PER_TOKEN = 16
"""What one generated token may cost in an answer's JSON body: a token is a few characters,
and one CJK character escaped as \\uXXXX is six bytes."""
ANSWER_SLACK_BYTES = 16 * 1024
"""The JSON around the answer text: ids, usage, the router's metadata."""
MIN_ANSWER_BYTES = 64 * 1024
ERROR_BODY_BYTES = 64 * 1024
"""What is read of a non-2xx body: enough to classify it and quote its start."""
DEFAULT_BODY_BYTES = 1024 * 1024
"""Other answers (a health probe, a model list)."""


def answer_byte_limit(max_tokens: int) -> int:
    """The most a generation's answer may weigh, from the max_tokens it was asked for."""
    return max(MIN_ANSWER_BYTES, max_tokens * BYTES_PER_TOKEN + ANSWER_SLACK_BYTES)


class Answer(Protocol):
    """What is kept of a provider's HTTP answer (an httpx.Response has all of it too)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> httpx.Headers: ...
    @property
    def content(self) -> bytes: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class ProviderAnswer:
    """An answer read through the size limit: its body, already decoded, complete."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


async def exchange(
    http: httpx.AsyncClient,
    config: ProviderConfig,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str],
    json_body: dict[str, Any] | None = None,
    model: str | None = None,
    timeout_s: float | None = None,
    max_bytes: int = DEFAULT_BODY_BYTES,
) -> ProviderAnswer:
    """The 2xx answer to `method base_url+path`; any other outcome raises ProviderCallError.

    `headers` are the client's own (its authentication); the API key is cut out of any
    error message whatever header carried it.
    `model` is the upstream model asked for, so a 404 about it reads as MODEL_NOT_SERVED.
    `timeout_s` defaults to the provider's per-attempt `timeout_seconds`. The body is read
    as a stream and never past `max_bytes` (after content decoding, so a compressed bomb
    is cut off too): a longer 2xx body is RESPONSE_TOO_LARGE, its first part kept. A 2xx
    body whose Content-Type is not JSON is BAD_PROVIDER_RESPONSE.
    """
    url = config.base_url + path
    where = f"{config.name}: {method} {urlsplit(url).path}"
    api_key = config.api_key()
    limit = config.timeout_seconds if timeout_s is None else timeout_s
    try:
        # httpx's timeout bounds each network operation; the outer one bounds the whole
        # attempt, so a provider trickling bytes cannot hold an execution past its timeout.
        async with (
            asyncio.timeout(limit),
            http.stream(method, url, json=json_body, headers=headers, timeout=limit) as stream,
        ):
            if stream.is_success and not _json_typed(stream.headers):
                content, _ = await _read_capped(stream, EXCERPT_CHARS * 4)
                raise _not_json_typed(
                    ProviderAnswer(stream.status_code, stream.headers, content), where
                )
            cap = max_bytes if stream.is_success else ERROR_BODY_BYTES
            content, complete = await _read_capped(stream, cap)
            response = ProviderAnswer(stream.status_code, stream.headers, content)
            if stream.is_success and not complete:
                raise _too_large(response, where=where, limit=cap)
    except (httpx.TimeoutException, TimeoutError) as exc:
        phase = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for an answer"
        raise ProviderCallError(
            "PROVIDER_TIMEOUT",
            f"{where}: timed out after {limit:g}s {phase}",
            transient=True,
        ) from exc
    except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise ProviderCallError(
            "PROVIDER_UNREACHABLE",
            f"{where}: connection failed ({_describe(exc)})",
            transient=True,
        ) from exc
    except httpx.DecodingError as exc:
        raise ProviderCallError(
            "BAD_PROVIDER_RESPONSE",
            f"{where}: undecodable response body ({_describe(exc)})",
            transient=True,
        ) from exc
    except httpx.HTTPError as exc:
        # Unsupported scheme, bad proxy, invalid URL: configuration, not weather.
        raise ProviderCallError(
            "PROVIDER_UNREACHABLE",
            f"{where}: request could not be sent ({_describe(exc)})",
            transient=False,
        ) from exc
    if 200 <= response.status_code < 300:
        return response
    raise error_for_status(response, where=where, model=model, secret=api_key)


def bearer_auth(config: ProviderConfig) -> dict[str, str]:
    """`Authorization: Bearer <key>`, the scheme of OpenAI-compatible servers."""
    api_key = config.api_key()
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class HTTPProviderClient:
    """What every HTTP provider client shares: its settings, the shared connection pool, and
    exchanges sent with the headers its own `auth_headers` gives."""

    def __init__(self, config: ProviderConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self._http = http

    def auth_headers(self) -> dict[str, str]:
        raise NotImplementedError("each provider client authenticates in its own way")

    async def post_json(
        self, path: str, body: dict[str, Any], *, model: str, max_tokens: int | None = None
    ) -> ProviderAnswer:
        """A generation request: bounded by the provider's per-attempt timeout, and its
        answer by `answer_byte_limit(max_tokens)` (DEFAULT_BODY_BYTES if not given)."""
        return await exchange(
            self._http,
            self.config,
            "POST",
            path,
            headers=self.auth_headers(),
            json_body=body,
            model=model,
            max_bytes=DEFAULT_BODY_BYTES if max_tokens is None else answer_byte_limit(max_tokens),
        )

    async def probe(self, path: str) -> ProviderAnswer:
        """A health request: bounded by the shorter health-check timeout."""
        return await exchange(
            self._http,
            self.config,
            "GET",
            path,
            headers=self.auth_headers(),
            timeout_s=health_check_timeout(self.config),
        )


def health_check_timeout(config: ProviderConfig) -> float:
    return min(config.timeout_seconds, HEALTH_CHECK_TIMEOUT_S)


async def _read_capped(stream: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the decoded body, and whether that was all of it."""
    parts: list[bytes] = []
    size = 0
    async for chunk in stream.aiter_bytes():
        if size + len(chunk) > limit:
            parts.append(chunk[: limit - size])
            return b"".join(parts), False
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts), True


def _json_typed(headers: httpx.Headers) -> bool:
    """A JSON media type, or none said (some servers omit it; the body is checked anyway)."""
    value = headers.get("content-type")
    if value is None:
        return True
    media_type = value.split(";", 1)[0].strip().lower()
    return bool(media_type == "application/json" or media_type.endswith("+json"))


def _not_json_typed(response: Answer, where: str) -> ProviderCallError:
    kind = response.headers.get("content-type", "")
    return ProviderCallError(
        "BAD_PROVIDER_RESPONSE",
        f"{where}: HTTP {response.status_code} but the Content-Type is {excerpt(kind)!r}, "
        f"not JSON: {excerpt(response.text)}",
        transient=True,
        http_status=response.status_code,
    )


def _too_large(response: Answer, *, where: str, limit: int) -> ProviderCallError:
    # Not retried: an endpoint that ignores max_tokens once will again, and each try is paid.
    return ProviderCallError(
        "RESPONSE_TOO_LARGE",
        f"{where}: HTTP {response.status_code} but the answer is longer than the {limit} "
        "bytes its max_tokens allows; reading stopped there, and the first part is kept as "
        "the execution's response",
        transient=False,
        http_status=response.status_code,
        partial_body=response.text,
    )


def error_for_status(
    response: Answer, *, where: str, model: str | None, secret: str | None
) -> ProviderCallError:
    status = response.status_code
    body = excerpt(response.text, secret=secret)
    message = f"{where}: HTTP {status}: {body}" if body else f"{where}: HTTP {status}"
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if status == 429:
        return ProviderCallError(
            "RATE_LIMITED", message, transient=True, http_status=status, retry_after=retry_after
        )
    if status >= 500 or status in (408, 425):
        return ProviderCallError(
            "PROVIDER_HTTP_ERROR",
            message,
            transient=True,
            http_status=status,
            retry_after=retry_after,
        )
    if status in (400, 404) and says_model_missing(response.text, model, status=status):
        return ProviderCallError("MODEL_NOT_SERVED", message, transient=False, http_status=status)
    if status in (401, 403):
        message += " (check the provider's api_key_env)"
    return ProviderCallError("PROVIDER_HTTP_ERROR", message, transient=False, http_status=status)


def says_model_missing(text: str, model: str | None, *, status: int = 404) -> bool:
    """Whether an error body says the requested model is not there (Ollama, vLLM, OpenAI)."""
    lowered = text.lower()
    names_model = model is not None and model.lower() in lowered
    missing = any(phrase in lowered for phrase in _MISSING_MODEL_PHRASES)
    if status == 404:
        # A 404 that does not talk about models means a wrong base_url, not a missing model.
        return names_model or ("model" in lowered and missing)
    return missing and (names_model or "model_not_found" in lowered)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def read_json_object(response: Answer, *, where: str) -> dict[str, Any]:
    try:
        document = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ProviderCallError(
            "BAD_PROVIDER_RESPONSE",
            f"{where}: HTTP {response.status_code} but the body is not JSON: "
            f"{excerpt(response.text)}",
            transient=True,
            http_status=response.status_code,
        ) from None
    if not isinstance(document, dict):
        raise bad_response(response, where=where, problem="the body is not a JSON object")
    return document


def bad_response(response: Answer, *, where: str, problem: str) -> ProviderCallError:
    return ProviderCallError(
        "BAD_PROVIDER_RESPONSE",
        f"{where}: HTTP {response.status_code} but {problem}: {excerpt(response.text)}",
        transient=True,
        http_status=response.status_code,
    )


def excerpt(text: str, *, secret: str | None = None) -> str:
    """The start of a body, on one line, short enough for an error message."""
    if secret:
        text = text.replace(secret, "[redacted]")
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) > EXCERPT_CHARS:
        return flat[:EXCERPT_CHARS] + "…"
    return flat


def _describe(exc: Exception) -> str:
    detail = str(exc).strip()
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
