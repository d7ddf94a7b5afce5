"""Every setting, read from `BEACON_*` environment variables in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SQLITE_PATH = Path(".beacon") / "beacon.db"
ONE_MIB = 1024 * 1024
PERSISTED_QUERY_MODES = ("on", "off", "only")


class ConfigError(ValueError):
    """A setting has a value the server cannot run with; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


# What people paste (`postgres://`, `postgresql://`, `sqlite:///`) means the async driver.
_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


def database_url(raw: str) -> str:
    """BEACON_DATABASE_URL with the async driver named, or ConfigError saying what is wrong."""
    example = "postgresql://user@host:5432/dbname or sqlite:///path/to/beacon.db"
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"BEACON_DATABASE_URL must be a URL such as {example}, got {raw!r}"
        ) from None
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ConfigError(
            f"BEACON_DATABASE_URL names an unsupported database {url.drivername!r}; use {example}"
        )
    if driver.startswith("postgresql") and not url.database:
        raise ConfigError(f"BEACON_DATABASE_URL names no database; use {example}")
    return url.set(drivername=driver).render_as_string(hide_password=False)


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS = ("auto", "text", "json")


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    broadcast_url: str = "memory://"
    providers_file: Path | None = None
    trusted_keys_file: Path | None = None
    # The receipt signing keys (docs/receipts.md); None: .beacon/signing-key.json, made on
    # first start.
    signing_key_file: Path | None = None
    max_spec_age_seconds: int = 900
    admin_token: str | None = None
    read_token: str | None = None
    # /metrics needs this token when set (else whatever grants read access).
    metrics_token: str | None = None
    introspection: bool = True
    worker_concurrency: int = 16
    lease_seconds: float = 30.0
    max_attempts: int = 3
    health_check_interval_seconds: float = 15.0
    log_level: str = "INFO"
    # "text" (short lines for a person), "json" (one object a line, for a log collector), or
    # "auto": text when stderr is a terminal.
    log_format: str = "auto"
    # Adversarial input (docs/security.md): the largest HTTP request body accepted, and how
    # many refused signatures one client address may send within the window (0: no limit).
    max_body_bytes: int = ONE_MIB
    # The largest GraphQL answer built (text and JSON values counted as they are resolved);
    # past it the answer is refused with RESPONSE_TOO_LARGE.
    max_response_bytes: int = 64 * ONE_MIB
    auth_failure_limit: int = 20
    auth_failure_window_seconds: float = 60.0
    # Answers about finished jobs kept for reuse, per process (0 turns the cache off).
    response_cache_mib: int = 64
    # Browser pages of other origins allowed to open the WebSocket (scheme://host[:port]).
    allowed_origins: frozenset[str] = frozenset()
    # Operations one HTTP request may batch (a JSON array body); 0 turns batching off.
    max_batch_operations: int = 10
    # Automatic persisted queries: "on" (clients may send a registered document's hash),
    # "off", or "only" (an allow-list: only registered documents run).
    persisted_queries: str = "on"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    source = os.environ if env is None else env
    defaults = Settings()
    return Settings(
        database_url=database_url(source.get("BEACON_DATABASE_URL") or defaults.database_url),
        broadcast_url=source.get("BEACON_BROADCAST_URL") or defaults.broadcast_url,
        providers_file=_path(source, "BEACON_PROVIDERS_FILE"),
        trusted_keys_file=_path(source, "BEACON_TRUSTED_KEYS_FILE"),
        signing_key_file=_path(source, "BEACON_SIGNING_KEY_FILE"),
        max_spec_age_seconds=_int(source, "BEACON_MAX_SPEC_AGE", defaults.max_spec_age_seconds),
        admin_token=source.get("BEACON_ADMIN_TOKEN") or None,
        read_token=source.get("BEACON_READ_TOKEN") or None,
        metrics_token=source.get("BEACON_METRICS_TOKEN") or None,
        introspection=_bool(source, "BEACON_INTROSPECTION", defaults.introspection),
        worker_concurrency=_int(
            source, "BEACON_WORKER_CONCURRENCY", defaults.worker_concurrency, minimum=1
        ),
        lease_seconds=_float(source, "BEACON_LEASE_SECONDS", defaults.lease_seconds),
        max_attempts=_int(source, "BEACON_MAX_ATTEMPTS", defaults.max_attempts, minimum=1),
        health_check_interval_seconds=_float(
            source, "BEACON_HEALTH_INTERVAL", defaults.health_check_interval_seconds
        ),
        log_level=_choice(source, "BEACON_LOG_LEVEL", defaults.log_level, LOG_LEVELS).upper(),
        log_format=_choice(source, "BEACON_LOG_FORMAT", defaults.log_format, LOG_FORMATS),
        max_body_bytes=_int(source, "BEACON_MAX_BODY_BYTES", defaults.max_body_bytes, minimum=1024),
        max_response_bytes=_int(
            source, "BEACON_MAX_RESPONSE_BYTES", defaults.max_response_bytes, minimum=1024
        ),
        auth_failure_limit=_int(
            source, "BEACON_AUTH_FAILURE_LIMIT", defaults.auth_failure_limit, minimum=0
        ),
        auth_failure_window_seconds=_float(
            source, "BEACON_AUTH_FAILURE_WINDOW", defaults.auth_failure_window_seconds
        ),
        response_cache_mib=_int(source, "BEACON_RESPONSE_CACHE_MB", defaults.response_cache_mib),
        allowed_origins=frozenset(
            origin.strip()
            for origin in source.get("BEACON_ALLOWED_ORIGINS", "").split(",")
            if origin.strip()
        ),
        max_batch_operations=_int(source, "BEACON_MAX_BATCH", defaults.max_batch_operations),
        persisted_queries=_choice(
            source, "BEACON_PERSISTED_QUERIES", defaults.persisted_queries, PERSISTED_QUERY_MODES
        ),
    )


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    meaning: str
    secret: bool = False


# Every variable load_settings reads, for `beacon-gql config` and `beacon-gql --help`.
VARIABLES = (
    Variable("BEACON_DATABASE_URL", "database_url", "postgresql://user@host/db or sqlite:///path"),
    Variable("BEACON_BROADCAST_URL", "broadcast_url", "memory://, postgres://... or redis://..."),
    Variable("BEACON_PROVIDERS_FILE", "providers_file", "TOML list of providers"),
    Variable("BEACON_TRUSTED_KEYS_FILE", "trusted_keys_file", "JSON list of trusted signing keys"),
    Variable("BEACON_SIGNING_KEY_FILE", "signing_key_file", "keys that sign receipts", secret=True),
    Variable("BEACON_MAX_SPEC_AGE", "max_spec_age_seconds", "seconds a signed spec stays valid"),
    Variable("BEACON_ADMIN_TOKEN", "admin_token", "bearer token of admin mutations", secret=True),
    Variable("BEACON_READ_TOKEN", "read_token", "bearer token needed to read", secret=True),
    Variable(
        "BEACON_METRICS_TOKEN", "metrics_token", "bearer token needed for /metrics", secret=True
    ),
    Variable("BEACON_INTROSPECTION", "introspection", "GraphQL introspection on or off"),
    Variable("BEACON_WORKER_CONCURRENCY", "worker_concurrency", "executions a worker runs at once"),
    Variable("BEACON_LEASE_SECONDS", "lease_seconds", "a claim lapses this long after its worker"),
    Variable("BEACON_MAX_ATTEMPTS", "max_attempts", "attempts per execution"),
    Variable("BEACON_HEALTH_INTERVAL", "health_check_interval_seconds", "provider health checks"),
    Variable("BEACON_LOG_LEVEL", "log_level", "debug, info, warning, error"),
    Variable("BEACON_LOG_FORMAT", "log_format", "auto (text on a terminal), text or json"),
    Variable("BEACON_MAX_BODY_BYTES", "max_body_bytes", "largest request body"),
    Variable("BEACON_MAX_RESPONSE_BYTES", "max_response_bytes", "largest GraphQL answer"),
    Variable("BEACON_MAX_BATCH", "max_batch_operations", "operations in one batched request"),
    Variable("BEACON_PERSISTED_QUERIES", "persisted_queries", "on, off or only"),
    Variable("BEACON_AUTH_FAILURE_LIMIT", "auth_failure_limit", "refused signatures per window"),
    Variable("BEACON_AUTH_FAILURE_WINDOW", "auth_failure_window_seconds", "that window, seconds"),
    Variable("BEACON_RESPONSE_CACHE_MB", "response_cache_mib", "answers kept per process, MiB"),
    Variable(
        "BEACON_ALLOWED_ORIGINS", "allowed_origins", "other sites' pages allowed to subscribe"
    ),
)
