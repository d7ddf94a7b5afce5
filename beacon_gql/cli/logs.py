"""Logs: short lines for a person at a terminal, JSON lines for a log collector.

Both carry the ids a person needs to find a failure (the `extra` fields of a record).
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

import orjson

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}

# uvicorn's own line for a failed start-up; the CLI reports the cause itself, in one line.
_UVICORN_STARTUP_FAILED = "Application startup failed. Exiting."


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _short(value: object) -> object:
    # A uuid's first 8 characters find it in the dashboard and the JSON logs alike.
    if isinstance(value, str) and _UUID.fullmatch(value):
        return value[:8]
    return value


_LEVELS = {"WARNING": "WARN", "CRITICAL": "CRIT"}


class TextFormatter(logging.Formatter):
    """`20:41:07 WARN  worker  execution failed  job=3f2c... region=US code=RATE_LIMITED`"""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = _LEVELS.get(record.levelname, record.levelname)
        source = record.name.removeprefix("beacon_gql.").removeprefix("uvicorn.")
        fields = " ".join(
            f"{key}={_short(value)}" for key, value in _extras(record).items() if value is not None
        )
        line = f"{when} {level:<5} {source:<10} {record.getMessage()}"
        if fields:
            line += f"  {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _not_uvicorn_startup_failure(record: logging.LogRecord) -> bool:
    return record.getMessage() != _UVICORN_STARTUP_FAILED


def wants_text(log_format: str, stream: TextIO) -> bool:
    if log_format == "auto":
        return stream.isatty()
    return log_format == "text"


def configure_logging(level: str = "INFO", log_format: str = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if wants_text(log_format, sys.stderr) else JsonFormatter())
    handler.addFilter(_not_uvicorn_startup_failure)
    root = logging.getLogger("beacon_gql")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # uvicorn's warnings and errors (a protocol error, a failed shutdown) in the same format.
    server = logging.getLogger("uvicorn")
    server.handlers[:] = [handler]
    server.setLevel(logging.WARNING)
    server.propagate = False
