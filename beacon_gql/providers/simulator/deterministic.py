"""Seeded pseudo-randomness for the simulator that depends only on what is hashed.

A shared random.Random would make one provider's answers depend on how requests to the
others interleave; hashing the inputs makes every draw reproducible on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) that is the same for the same parts, in every process."""
    key = "\x1f".join(str(part) for part in parts).encode("utf-8")
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def stable_choice(options: Sequence[T], *parts: object) -> T:
    return options[int(stable_fraction(*parts) * len(options))]


def stable_token(*parts: object) -> str:
    """A short hex id, for response ids that repeat with the seed."""
    key = "\x1f".join(str(part) for part in parts).encode("utf-8")
    return hashlib.blake2b(key, digest_size=6).hexdigest()
