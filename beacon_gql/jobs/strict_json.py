"""JSON the server accepts: `strict_json_loads` refuses request JSON (HTTP bodies, query-string
variables, WebSocket messages, job specs) nested deeper than `MAX_JSON_DEPTH`, holding NaN,
Infinity or a number too large for a double (Python's json module would accept them;
PostgreSQL's json type and other JSON readers do not), or not JSON at all, instead of failing
later as an internal error (RecursionError, a database error). `text_problem` says why a string
cannot go into a text column.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Final

# Far deeper than any job spec (about 5 levels) wrapped in a GraphQL request (3 more), and far
# shallower than the interpreter's recursion limit, which recursive code down the line needs.
MAX_JSON_DEPTH: Final = 64


class UnacceptableJSON(json.JSONDecodeError):
    """JSON the server refuses. A JSONDecodeError, so strawberry's WebSocket handlers treat it
    as any other unparsable message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def json_problem(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why an already parsed JSON value is refused (too deep, a non-finite number), or None."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "it holds NaN or an infinite number, which JSON cannot represent"
        if isinstance(item, Mapping):
            children: Iterable[object] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > max_depth:
            return f"it is nested more than {max_depth} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


_NOT_STORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")


def is_storable_text(text: str) -> bool:
    """False for text no row can hold (U+0000, a lone surrogate): a lookup by it finds
    nothing, and must not reach the database, whose driver cannot even send it."""
    return _NOT_STORABLE.search(text) is None


def text_problem(text: str, *, max_length: int) -> str | None:
    """Why a string cannot go into a text column, or None. PostgreSQL refuses U+0000 in text,
    and neither database takes a lone surrogate (JSON columns escape both, so a spec's other
    strings may hold them: the portal does send lone surrogates in descriptions)."""
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    found = _NOT_STORABLE.search(text)
    if found is not None:
        return (
            f"contains U+{ord(found.group()):04X} at position {found.start()}, which is not "
            "storable text (NUL or an unpaired surrogate)"
        )
    return None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnacceptableJSON(f"the number {text[:40]} is too large for a double")
    return value


def _refuse_constant(name: str) -> object:
    raise UnacceptableJSON(f"{name} is not JSON")


def strict_json_loads(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """`json.loads`, minus what JSON does not allow and what the server cannot hold: raises
    UnacceptableJSON with a reason a client can act on."""
    try:
        value = json.loads(data, parse_float=_finite_float, parse_constant=_refuse_constant)
    except UnacceptableJSON:
        raise
    except RecursionError:
        raise UnacceptableJSON(f"it is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as error:
        raise UnacceptableJSON(f"it is not valid JSON: {error}") from None
    except ValueError:
        # Not UTF-8, or an integer with thousands of digits (Python refuses to convert those).
        raise UnacceptableJSON("it is not valid JSON (bad encoding or a huge number)") from None
    problem = json_problem(value, max_depth=max_depth)
    if problem is not None:
        raise UnacceptableJSON(problem)
    return value
