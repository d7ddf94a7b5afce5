"""Errors that reach API clients, each with the code DESIGN.md promises in `extensions.code`."""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal[
    "BAD_USER_INPUT",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "REPLAYED",
    "NOT_FOUND",
    "RATE_LIMITED",
    "INTERNAL_SERVER_ERROR",
]


class BeaconError(Exception):
    """A failure the client caused or must act on; `message` is shown to them verbatim."""

    code: ErrorCode = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadUserInput(BeaconError):
    code: ErrorCode = "BAD_USER_INPUT"


class Unauthenticated(BeaconError):
    code: ErrorCode = "UNAUTHENTICATED"


class Forbidden(BeaconError):
    code: ErrorCode = "FORBIDDEN"


class Replayed(BeaconError):
    code: ErrorCode = "REPLAYED"


class NotFound(BeaconError):
    code: ErrorCode = "NOT_FOUND"


class RateLimited(BeaconError):
    code: ErrorCode = "RATE_LIMITED"
