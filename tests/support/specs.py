"""Job specs as the portal writes them, signed with a test key."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beacon_gql.jobs.catalogue import CATALOGUE
from beacon_gql.jobs.signing import generate_signing_key, sign_spec
from beacon_gql.jobs.trust import trusted_key_entry

FOUR_QUESTIONS = ["math_basic", "tiananmen_neutral", "taiwan_status", "greatest_leader"]
THREE_MODELS = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"]
THREE_REGIONS = ["US", "EU", "ASIA"]
EVERY_QUESTION = [question.id for question in CATALOGUE]


def make_spec(
    *,
    questions: list[str] | None = None,
    models: list[Any] | None = None,
    regions: list[str] | None = None,
    **constraints: Any,
) -> dict[str, Any]:
    return {
        "id": "bias-detection-test",
        "version": "v1",
        "benchmark": {
            "name": "multi-model-bias-detection",
            "version": "v1",
            "input": {"type": "prompt", "data": {"prompt": "x"}, "hash": "sha256:placeholder"},
        },
        "constraints": {
            "regions": regions if regions is not None else list(THREE_REGIONS),
            "min_regions": 1,
            **constraints,
        },
        "metadata": {
            "created_by": "portal",
            "models": models if models is not None else list(THREE_MODELS),
        },
        "runs": 1,
        "questions": questions if questions is not None else list(FOUR_QUESTIONS),
    }


@dataclass
class Signer:
    kid: str
    private_key: str
    public_key: str

    @classmethod
    def generate(cls, kid: str) -> Signer:
        private_key, public_key = generate_signing_key()
        return cls(kid=kid, private_key=private_key, public_key=public_key)

    def sign(self, spec: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
        return sign_spec(copy.deepcopy(spec), self.private_key, now=now or datetime.now(UTC))

    def trust_entry(self, **overrides: Any) -> dict[str, object]:
        entry = trusted_key_entry(self.kid, self.public_key)
        entry.update(overrides)
        return entry


def write_trust_file(path: Path, entries: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return path
