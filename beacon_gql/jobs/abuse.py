"""Abuse protections for the submission workflow.

- `AuthFailureLimiter`: a client address that keeps sending specs whose signature or key is
  refused (UNAUTHENTICATED, FORBIDDEN) is told RATE_LIMITED for a while, so the endpoint is no
  oracle for guessing keys or signatures and no cheap way to burn CPU on Ed25519 checks.
- `redact_secrets`: what a job spec looks like when shown back to clients: never a private
  key, seed, password, ... even when a careless portal put one inside the signed spec.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Final

from beacon_gql.errors import RateLimited

# At most this many client addresses are remembered; beyond it the stalest are forgotten first,
# so a flood from many addresses costs bounded memory.
MAX_TRACKED_CLIENTS: Final = 10_000


class AuthFailureLimiter:
    """Counts refused signatures per client address in a sliding window.

    After `limit` failures within `window_seconds`, `check` refuses the client with RATE_LIMITED
    until the oldest of those failures is `window_seconds` old. Refused (rate-limited) attempts
    are not failures themselves: a client that stops misbehaving is let back in when the window
    passes.

    The state is in memory, per process: with several API processes behind a load balancer each
    allows `limit` failures per window, and a restart forgets everything. That is acceptable for
    what it defends against (guessing and CPU burning); docs/security.md says so.
    """

    def __init__(
        self,
        limit: int = 20,
        window_seconds: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._max_clients = max_clients
        # client -> monotonic times of its most recent failures (at most `limit` of them),
        # least recently failed client first.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def check(self, client: str | None) -> None:
        """Raise RateLimited when `client` has failed too often lately. `None` (an in-process
        caller, not a network client) is never limited."""
        if client is None or not self.enabled:
            return
        failures = self._failures.get(client)
        if failures is None or len(failures) < self.limit:
            return
        retry_after = failures[0] + self.window_seconds - self._clock()
        if retry_after <= 0:
            return
        raise RateLimited(
            f"too many refused signatures from this address ({len(failures)} within "
            f"{self.window_seconds:g} s); try again in {max(1, round(retry_after))} s"
        )

    def record_failure(self, client: str | None) -> None:
        if client is None or not self.enabled:
            return
        failures = self._failures.pop(client, None)
        if failures is None:
            failures = deque(maxlen=self.limit)
        failures.append(self._clock())
        self._failures[client] = failures
        while len(self._failures) > self._max_clients:
            self._failures.popitem(last=False)

    def reset(self) -> None:
        self._failures.clear()


REDACTED: Final = "[redacted]"

# Words that make a key name secret on their own, and pairs of adjacent words that do.
_SECRET_WORDS: Final = frozenset(
    {
        "secret",
        "secrets",
        "seed",
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "mnemonic",
        "privatekey",
        "privkey",
        "apikey",
        "secretkey",
        "signingkey",
        "token",
        "credential",
        "credentials",
        "authorization",
    }
)
_SECRET_PAIRS: Final = frozenset(
    {
        ("private", "key"),
        ("priv", "key"),
        ("api", "key"),
        ("signing", "key"),
        ("access", "key"),
        ("access", "token"),
        ("auth", "token"),
        ("refresh", "token"),
        ("bearer", "token"),
        ("seed", "phrase"),
        ("recovery", "phrase"),
    }
)
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_ALPHANUMERIC: Final = re.compile(r"[^a-z0-9]+")


def _words(name: str) -> list[str]:
    return [w for w in _NOT_ALPHANUMERIC.split(_CAMEL_BOUNDARY.sub("_", name).lower()) if w]


def is_secret_name(name: str) -> bool:
    """True for key names like private_key, privateKey, secret, client_secret, seed, password,
    api_key, x-api-key, mnemonic, access_token. Not for public_key, signature, nonce, kid or
    max_tokens."""
    words = _words(name)
    if any(word in _SECRET_WORDS for word in words):
        return True
    if "".join(words) in _SECRET_WORDS:
        return True
    return any(pair in _SECRET_PAIRS for pair in pairwise(words))


def redact_secrets(value: object) -> object:
    """A copy of `value` in which every object member, at any depth (inside lists too), whose
    key looks like a secret has its value replaced by "[redacted]". `value` is not changed."""
    # Iterative, so a deeply nested stored spec cannot exhaust the interpreter's stack here.
    root: list[object] = [None]
    stack: list[tuple[object, list[object] | dict[str, object], int | str]] = [(value, root, 0)]
    while stack:
        item, parent, slot = stack.pop()
        if isinstance(item, Mapping):
            copy: dict[str, object] = {}
            for key, child in item.items():
                if isinstance(key, str) and is_secret_name(key):
                    copy[key] = REDACTED
                else:
                    copy[key] = None
                    stack.append((child, copy, key))
            placed: object = copy
        elif isinstance(item, list | tuple):
            items: list[object] = [None] * len(item)
            stack.extend((child, items, index) for index, child in enumerate(item))
            placed = items
        else:
            placed = item
        parent[slot] = placed  # type: ignore[index]
    return root[0]
