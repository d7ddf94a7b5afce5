"""One simulated provider as a Starlette app, speaking the openai or hybrid-router protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from beacon_gql.providers.regions import Region, normalise_region
from beacon_gql.providers.simulator.answers import (
    CHINESE_REFUSAL,
    REFUSAL,
    is_chinese,
    recognise_question,
    simulated_answer,
    uncensored_answer,
)
from beacon_gql.providers.simulator.deterministic import (
    stable_choice,
    stable_fraction,
    stable_token,
)
from beacon_gql.providers.simulator.faults import (
    OVERSIZED_BYTES,
    Fault,
    FaultProfile,
    choose_fault,
)

HANG_LIMIT_S = 600.0
"""A hanging request answers after this long at the latest, or as soon as the provider stops."""


@dataclass(frozen=True)
class SimulatedProviderSpec:
    name: str
    region: Region
    kind: str
    models: Mapping[str, str]
    """Job model id -> the upstream name this endpoint knows it by."""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    body: Any
    """The parsed JSON body, or None."""
    headers: Mapping[str, str]
    """Lower-cased names."""


class SimulatedProvider:
    def __init__(self, spec: SimulatedProviderSpec, *, seed: int, faults: FaultProfile) -> None:
        self.spec = spec
        self.seed = seed
        self.faults = faults
        self.scripted_answers: Mapping[str, Sequence[str]] = {}
        """Catalogue question id -> answers: the n-th answer to that question (per model) is
        the n-th of the list, in turn, so a test decides how much a cell's samples vary.
        Takes precedence over the region's answers and `faults.refusal_rate`."""
        self.refuses_chinese: frozenset[str] = frozenset()
        """Models that refuse, in Chinese, every prompt written in Chinese and answer every
        other one as they otherwise would: a model that censors by the language it is asked
        in, for tests of the analysis's language comparisons."""
        self.numbered_answers = False
        """Every answer opens with the number of the request it answers (where a length
        limit cannot cut it off), so no two are the same text: for benchmarks of work that
        identical answers share (classification)."""
        self.closing = asyncio.Event()
        self.generation_requests = 0
        self.log: list[RecordedRequest] = []
        self.arrivals = asyncio.Condition()
        """Notified on every generation request, for tests waiting on traffic."""
        self._attempts: Counter[tuple[str, str]] = Counter()
        self._numbered = 0
        self._answered: Counter[tuple[str, str]] = Counter()
        self._model_ids = {upstream: model_id for model_id, upstream in spec.models.items()}

    @property
    def name(self) -> str:
        return self.spec.name

    def app(self) -> Starlette:
        if self.spec.kind == "openai":
            routes = [
                Route("/v1/chat/completions", self._chat_completions, methods=["POST"]),
                Route("/v1/models", self._list_models, methods=["GET"]),
            ]
        else:
            routes = [
                Route("/inference", self._inference, methods=["POST"]),
                Route("/providers", self._router_providers, methods=["GET"]),
                Route("/health", self._router_health, methods=["GET"]),
            ]
        return Starlette(routes=routes)

    # -- openai protocol -------------------------------------------------------------

    async def _chat_completions(self, request: Request) -> Response:
        body = await self._receive(request, generation=True)
        model = body.get("model") if isinstance(body, dict) else None
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(model, str) or not isinstance(messages, list):
            return _openai_error(
                400, "request needs 'model' and 'messages'", "invalid_request_error"
            )
        prompt = _last_content(messages, "user")
        if prompt is None:
            return _openai_error(400, "no user message", "invalid_request_error")
        model_id = self._model_ids.get(model)
        if model_id is None:
            return JSONResponse({"error": {"message": f"model '{model}' not found"}}, 404)

        fault = await self._before_answer(model_id, prompt)
        if fault == "rate_limit":
            return _openai_error(
                429,
                f"Rate limit reached for {model} on SIMULATED provider {self.name}",
                "rate_limit_error",
                headers=self._retry_after(),
            )
        if fault == "error":
            return _openai_error(500, "simulated internal server error", "server_error")
        if fault == "hang":
            return _openai_error(503, "simulated provider is shutting down", "server_error")
        if fault == "malformed":
            return self._malformed(model_id, prompt, router=False)

        answer = self._spoken_answer(model_id, prompt)
        text, finish_reason = _limit_tokens(answer, body.get("max_tokens"))
        if fault == "oversized":
            return _oversized(
                '{"object":"chat.completion","choices":[{"index":0,"message":'
                '{"role":"assistant","content":"',
                '"},"finish_reason":"stop"}]}',
            )
        return _answer(
            fault,
            {
                "id": f"chatcmpl-sim-{stable_token(self.seed, self.name, model_id, prompt)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": f"simulated-{self.name}",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": len(prompt.split()) + len(text.split()),
                },
            },
        )

    async def _list_models(self, request: Request) -> Response:
        await self._receive(request, generation=False)
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": upstream, "object": "model", "created": 0, "owned_by": "simulator"}
                    for upstream in self.spec.models.values()
                ],
            }
        )

    # -- hybrid-router protocol ------------------------------------------------------

    async def _inference(self, request: Request) -> Response:
        body = await self._receive(request, generation=True)
        model = body.get("model") if isinstance(body, dict) else None
        prompt = body.get("prompt") if isinstance(body, dict) else None
        if not isinstance(model, str) or not isinstance(prompt, str):
            return JSONResponse({"detail": "request needs 'model' and 'prompt' strings"}, 422)
        model_id = self._model_ids.get(model)
        if model_id is None:
            return self._router_failure(f"model '{model}' not found", "MODEL_NOT_FOUND")
        preference = body.get("region_preference")
        if isinstance(preference, str) and normalise_region(preference) != self.spec.region:
            return self._router_failure(
                f"no healthy provider available in region '{preference}'", "NO_PROVIDER"
            )

        started = time.monotonic()
        fault = await self._before_answer(model_id, prompt)
        if fault == "rate_limit":
            return JSONResponse({"detail": "rate limited"}, 429, headers=self._retry_after())
        if fault == "error":
            return self._router_failure(
                f"{self._backend_name()} failed: CUDA out of memory (simulated)", "PROVIDER_ERROR"
            )
        if fault == "hang":
            return JSONResponse({"detail": "simulated router is shutting down"}, 503)
        if fault == "malformed":
            return self._malformed(model_id, prompt, router=True)

        answer = self._spoken_answer(model_id, prompt)
        text, _ = _limit_tokens(answer, body.get("max_tokens"))
        if fault == "oversized":
            return _oversized('{"success":true,"response":"', '"}')
        return _answer(
            fault,
            {
                "success": True,
                "response": text,
                "error": None,
                "provider_used": self._backend_name(),
                "inference_time": round(time.monotonic() - started, 3),
                "cost_estimate": 0.0,
                "metadata": {"simulated": True, "region": self._router_region()},
            },
        )

    async def _router_providers(self, request: Request) -> Response:
        await self._receive(request, generation=False)
        return JSONResponse(
            {
                "providers": [
                    {
                        "name": self._backend_name(),
                        "type": "simulated",
                        "region": self._router_region(),
                        "healthy": True,
                        "cost_per_second": 0.0,
                        "avg_latency": self.faults.latency_ms / 1000,
                        "success_rate": 1.0 - self.faults.error_rate,
                        "last_health_check": None,
                    }
                ]
            }
        )

    async def _router_health(self, request: Request) -> Response:
        await self._receive(request, generation=False)
        return JSONResponse(
            {
                "status": "healthy",
                "timestamp": time.time(),
                "version": "simulated",
                "providers_total": 1,
                "providers_healthy": 1,
                "regions": [self._router_region()],
            }
        )

    def _router_failure(self, error: str, error_code: str) -> Response:
        return JSONResponse(
            {
                "success": False,
                "response": None,
                "error": error,
                "error_code": error_code,
                "provider_used": self._backend_name(),
                "inference_time": 0.0,
                "cost_estimate": 0.0,
                "metadata": {"simulated": True},
            }
        )

    def _backend_name(self) -> str:
        return f"{self.name}-backend-{self._router_region()}"

    def _router_region(self) -> str:
        return {"US": "us-east", "EU": "eu-west", "ASIA": "asia-pacific"}[self.spec.region]

    # -- shared behaviour ------------------------------------------------------------

    def _spoken_answer(self, model_id: str, prompt: str) -> str:
        answer = self._canned_answer(model_id, prompt)
        if self.numbered_answers:
            self._numbered += 1
            return f"({self.name} {self._numbered}) {answer}"
        return answer

    def _canned_answer(self, model_id: str, prompt: str) -> str:
        scripted = self.scripted_answers.get(recognise_question(prompt) or "")
        if scripted:
            asked = self._answered[(model_id, prompt)]
            self._answered[(model_id, prompt)] += 1
            return scripted[asked % len(scripted)]
        if model_id in self.refuses_chinese and is_chinese(prompt):
            return CHINESE_REFUSAL
        rate = self.faults.refusal_rate
        uncensored = (
            None
            if rate is None
            else uncensored_answer(seed=self.seed, model_id=model_id, prompt=prompt)
        )
        if rate is None or uncensored is None:
            return simulated_answer(
                seed=self.seed, region=self.spec.region, model_id=model_id, prompt=prompt
            )
        asked = self._answered[(model_id, prompt)]
        self._answered[(model_id, prompt)] += 1
        refuse = stable_fraction(self.seed, self.name, model_id, prompt, asked, "refuse") < rate
        return REFUSAL if refuse else uncensored

    async def _receive(self, request: Request, *, generation: bool) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.log.append(RecordedRequest(request.method, request.url.path, body, headers))
        if generation:
            self.generation_requests += 1
            async with self.arrivals:
                self.arrivals.notify_all()
        return body

    async def _before_answer(self, model_id: str, prompt: str) -> Fault | None:
        """Waits the configured latency, then draws (and, for a hang, serves) the fault."""
        attempt = self._attempts[(model_id, prompt)]
        self._attempts[(model_id, prompt)] += 1
        await self._pause(
            self.faults.latency_s(
                seed=self.seed, provider=self.name, model=model_id, prompt=prompt, attempt=attempt
            )
        )
        fault = choose_fault(
            self.faults,
            seed=self.seed,
            provider=self.name,
            model=model_id,
            prompt=prompt,
            attempt=attempt,
        )
        if fault == "hang":
            await self._pause(HANG_LIMIT_S)
        return fault

    async def _pause(self, seconds: float) -> None:
        # Cut short when the provider stops, so a hanging request never delays shutdown.
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), timeout=seconds)

    def _retry_after(self) -> dict[str, str]:
        # HTTP allows only whole seconds here; round up so clients never retry too early.
        return {"Retry-After": str(math.ceil(self.faults.retry_after_s))}

    def _malformed(self, model_id: str, prompt: str, *, router: bool) -> Response:
        shape = stable_choice(
            ("html", "no_answer", "empty"), self.seed, self.name, model_id, prompt
        )
        if shape == "html":
            return PlainTextResponse("<html><body><h1>502 Bad Gateway</h1></body></html>")
        if router:
            return JSONResponse({"success": True, "response": "" if shape == "empty" else None})
        if shape == "no_answer":
            return JSONResponse({"id": "chatcmpl-sim-broken", "object": "chat.completion"})
        return JSONResponse(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}}]}
        )


def _answer(fault: Fault | None, document: dict[str, Any]) -> Response:
    if fault == "not_json_typed":
        return Response(json.dumps(document), media_type="text/html")
    return JSONResponse(document)


def _oversized(head: str, tail: str) -> Response:
    """A well-formed JSON answer of OVERSIZED_BYTES, streamed, never held whole here."""
    chunk = b"A" * (64 * 1024)

    async def body() -> AsyncIterator[bytes]:
        yield head.encode()
        for _ in range(OVERSIZED_BYTES // len(chunk)):
            yield chunk
        yield tail.encode()

    return StreamingResponse(body(), media_type="application/json")


def _openai_error(
    status: int, message: str, kind: str, *, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONResponse({"error": {"message": message, "type": kind}}, status, headers=headers)


def _last_content(messages: list[Any], role: str) -> str | None:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == role:
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


def _limit_tokens(text: str, max_tokens: object) -> tuple[str, str]:
    """The answer cut to `max_tokens` (a word stands for a token), and why it ended."""
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
        words = text.split()
        if len(words) > max_tokens:
            return " ".join(words[:max_tokens]), "length"
    return text, "stop"
