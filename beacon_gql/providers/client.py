"""What every provider client takes, returns and raises, whatever protocol it speaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from beacon_gql.providers.endpoint import ProviderConfig
from beacon_gql.providers.regions import Region

ProviderErrorCode = Literal[
    "PROVIDER_UNREACHABLE",
    "PROVIDER_TIMEOUT",
    "PROVIDER_HTTP_ERROR",
    "RATE_LIMITED",
    "BAD_PROVIDER_RESPONSE",
    "MODEL_NOT_SERVED",
    "RESPONSE_TOO_LARGE",
]


@dataclass(frozen=True)
class GenerationRequest:
    model: str
    """The upstream name (`ProviderConfig.models[job_model_id]`), not the job's model id."""
    prompt: str
    system_prompt: str | None
    temperature: float
    max_tokens: int
    region: Region
    top_p: float | None = None
    """Sent only when the job set it; otherwise the endpoint's own default applies."""


@dataclass(frozen=True)
class GenerationResult:
    text: str
    http_status: int
    served_by: str | None
    """Who the endpoint says answered (the hybrid router's `provider_used`), if it says."""


class ProviderCallError(Exception):
    """One failed attempt, classified so the engine can decide whether to try again.

    `message` is meant for people reading an execution's error: it carries the HTTP status
    and a short excerpt of the body, and never an API key.
    """

    def __init__(
        self,
        code: ProviderErrorCode,
        message: str,
        *,
        transient: bool,
        http_status: int | None = None,
        retry_after: float | None = None,
        partial_body: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ProviderErrorCode = code
        self.message = message
        self.transient = transient
        self.http_status = http_status
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (429/503 `Retry-After`), if it said."""
        self.partial_body = partial_body
        """RESPONSE_TOO_LARGE: the body's first part, as far as the size limit, as text."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"ProviderCallError({self.code!r}, {self.message!r}, transient={self.transient}, "
            f"http_status={self.http_status}, retry_after={self.retry_after})"
        )


class ProviderClient(Protocol):
    config: ProviderConfig

    def auth_headers(self) -> dict[str, str]:
        """The headers that authenticate a request, in the endpoint's own scheme (none
        without a key); read at call time, so a rotated key is picked up."""
        ...

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """One attempt, bounded by `config.timeout_seconds`; raises `ProviderCallError`."""
        ...

    async def check_health(self) -> None:
        """Returns when the endpoint answers its health route; raises `ProviderCallError`."""
        ...
