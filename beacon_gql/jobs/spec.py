"""From the predecessor's JSON job spec to a validated plan of executions.

Everything here is pure: no database, no clock beyond what is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime

from beacon_gql.errors import BadUserInput
from beacon_gql.jobs.durations import parse_timeout
from beacon_gql.providers.regions import KNOWN_REGIONS, Region, normalise_region

SUPPORTED_VERSIONS = ("v1",)
DEFAULT_TEMPERATURE = 0.1
DEFAULT_MAX_TOKENS = 500
MAX_RUNS = 50
SHOWN_QUESTIONS = 20
"""An unknown question's error lists this many catalogue ids at most."""
MAX_QUESTIONS = 200
MAX_MODELS = 100
MAX_EXECUTIONS = 20_000
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")


@dataclass(frozen=True)
class ModelChoice:
    id: str
    name: str
    regions: tuple[Region, ...]


@dataclass(frozen=True)
class JobPlan:
    spec_id: str | None
    benchmark_name: str
    question_ids: tuple[str, ...]
    models: tuple[ModelChoice, ...]
    regions: tuple[Region, ...]
    min_regions: int
    min_success_rate: float
    temperature: float
    max_tokens: int
    timeout_seconds: float | None
    provider_timeout_seconds: float | None
    nonce: str
    signed_at: datetime
    top_p: float | None = None
    runs: int = 1
    """How many times every cell is asked: its samples are numbered 1..runs."""

    @property
    def expected(self) -> int:
        cells = sum(len(model.regions) for model in self.models) * len(self.question_ids)
        return cells * self.runs

    def cells(self) -> Iterator[tuple[str, str, Region]]:
        """Every (question, model, region) the job runs, in a stable display order."""
        for question_id in self.question_ids:
            for model in self.models:
                for region in model.regions:
                    yield question_id, model.id, region

    def samples(self) -> Iterator[tuple[str, str, Region, int]]:
        """Every execution: each cell `runs` times, its samples next to each other."""
        for question_id, model_id, region in self.cells():
            for sample in range(1, self.runs + 1):
                yield question_id, model_id, region, sample


def _object(value: object, field: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise BadUserInput(f"{field} must be a JSON object", field=field)
    return value


def _optional_object(spec: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = spec.get(key)
    return {} if value is None else _object(value, key)


def _text(value: object, field: str, *, max_length: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadUserInput(f"{field} must be a non-empty string", field=field)
    if len(value) > max_length:
        raise BadUserInput(f"{field} is longer than {max_length} characters", field=field)
    return value


def _number(value: object, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadUserInput(f"{field} must be a number between {low:g} and {high:g}", field=field)
    if not low <= value <= high:
        raise BadUserInput(
            f"{field} must be between {low:g} and {high:g}, got {value!r}", field=field
        )
    return float(value)


def _regions(raw: object, field: str) -> tuple[Region, ...]:
    if not isinstance(raw, list) or not raw:
        raise BadUserInput(f"{field} must be a non-empty list of regions", field=field)
    regions: list[Region] = []
    for index, name in enumerate(raw):
        if not isinstance(name, str):
            raise BadUserInput(f"{field}[{index}] must be a region name", field=field)
        region = normalise_region(name)
        if region is None:
            raise BadUserInput(
                f"{field}[{index}]: unknown region {name!r}; known regions are "
                f"{', '.join(KNOWN_REGIONS)} (also us-east, eu-west, asia-pacific, APAC)",
                field=field,
            )
        if region not in regions:
            regions.append(region)
    return tuple(regions)


def _questions(spec: Mapping[str, object], known: Set[str]) -> tuple[str, ...]:
    raw = spec.get("questions")
    if not isinstance(raw, list) or not raw:
        raise BadUserInput("questions must be a non-empty list of question ids", field="questions")
    if len(raw) > MAX_QUESTIONS:
        raise BadUserInput(f"at most {MAX_QUESTIONS} questions per job", field="questions")
    seen: list[str] = []
    for index, question_id in enumerate(raw):
        if not isinstance(question_id, str):
            raise BadUserInput(f"questions[{index}] must be a question id", field="questions")
        if question_id not in known:
            listed = sorted(known)
            shown = ", ".join(listed[:SHOWN_QUESTIONS])
            if len(listed) > SHOWN_QUESTIONS:
                shown += f", and {len(listed) - SHOWN_QUESTIONS} more"
            raise BadUserInput(
                f"questions[{index}]: unknown question {question_id!r}; see the `questions` "
                f"query for the catalogue ({shown})",
                field="questions",
            )
        if question_id in seen:
            raise BadUserInput(f"questions[{index}]: {question_id!r} is listed twice")
        seen.append(question_id)
    return tuple(seen)


def _model(
    raw: object, index: int, job_regions: tuple[Region, ...], known: Set[str]
) -> ModelChoice:
    field = f"models[{index}]"
    regions = job_regions
    if isinstance(raw, str):
        model_id, name = raw, raw
    elif isinstance(raw, Mapping):
        model_id = _text(raw.get("id"), f"{field}.id")
        name = _text(raw.get("name", model_id), f"{field}.name")
        if raw.get("regions") is not None:
            limited = _regions(raw.get("regions"), f"{field}.regions")
            regions = tuple(region for region in job_regions if region in limited)
            if not regions:
                raise BadUserInput(
                    f"{field}: model {model_id!r} is limited to {', '.join(limited)}, none of "
                    f"which the job runs in ({', '.join(job_regions)})",
                    field="models",
                )
    else:
        raise BadUserInput(f"{field} must be a model id or {{id, name}}", field="models")
    if not _MODEL_ID.match(model_id):
        raise BadUserInput(f"{field}: {model_id!r} is not a valid model id", field="models")
    if model_id not in known:
        raise BadUserInput(
            f"{field}: unknown model {model_id!r}; models served here: {', '.join(sorted(known))}",
            field="models",
        )
    return ModelChoice(id=model_id, name=name, regions=regions)


def _models(
    spec: Mapping[str, object],
    metadata: Mapping[str, object],
    regions: tuple[Region, ...],
    known: Set[str],
) -> tuple[ModelChoice, ...]:
    raw = spec.get("models")
    if raw is None:
        raw = metadata.get("models")
    if raw is None and metadata.get("model") is not None:
        raw = [metadata.get("model")]
    if not isinstance(raw, list) or not raw:
        raise BadUserInput(
            "models must be a non-empty list (top-level `models` or `metadata.models`)",
            field="models",
        )
    if len(raw) > MAX_MODELS:
        raise BadUserInput(f"at most {MAX_MODELS} models per job", field="models")
    models = [_model(item, index, regions, known) for index, item in enumerate(raw)]
    ids = [model.id for model in models]
    duplicates = sorted({model_id for model_id in ids if ids.count(model_id) > 1})
    if duplicates:
        raise BadUserInput(f"models lists {', '.join(duplicates)} twice", field="models")
    return tuple(models)


def parse_timestamp(value: object) -> datetime:
    text = _text(value, "metadata.timestamp", max_length=64)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadUserInput(
            f"metadata.timestamp must be ISO 8601 like 2025-10-12T14:12:10.617Z, got {text!r}",
            field="metadata.timestamp",
        ) from None
    if parsed.tzinfo is None:
        raise BadUserInput("metadata.timestamp must carry a timezone (Z)", field="metadata")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Generation:
    """The sampling parameters every attempt of every execution of the job uses."""

    temperature: float
    max_tokens: int
    top_p: float | None


def _generation(spec: Mapping[str, object]) -> Generation:
    # `generation` is the field's name; `parameters` is what earlier specs called it.
    if spec.get("generation") is not None and spec.get("parameters") is not None:
        raise BadUserInput(
            "set generation or parameters (its older name), not both", field="generation"
        )
    key = "parameters" if spec.get("parameters") is not None else "generation"
    values = _optional_object(spec, key)
    unknown = sorted(set(values) - {"temperature", "max_tokens", "top_p"})
    if unknown:
        raise BadUserInput(
            f"{key}: unknown field {unknown[0]!r}; known fields are temperature, max_tokens "
            "and top_p",
            field=key,
        )
    temperature = _number(
        values.get("temperature", DEFAULT_TEMPERATURE), f"{key}.temperature", 0.0, 2.0
    )
    max_tokens = _number(values.get("max_tokens", DEFAULT_MAX_TOKENS), f"{key}.max_tokens", 1, 8192)
    if max_tokens != int(max_tokens):
        raise BadUserInput(f"{key}.max_tokens must be a whole number", field=key)
    top_p = values.get("top_p")
    if top_p is not None:
        top_p = _number(top_p, f"{key}.top_p", 0.0, 1.0)
        if top_p == 0:
            raise BadUserInput(f"{key}.top_p must be above 0 (1 keeps every token)", field=key)
    return Generation(temperature=temperature, max_tokens=int(max_tokens), top_p=top_p)


def _runs(spec: Mapping[str, object]) -> int:
    # 1.0 is accepted: the signed canonical JSON cannot tell it from 1.
    runs = _number(spec.get("runs", 1), "runs", 1, MAX_RUNS)
    if runs != int(runs):
        raise BadUserInput(f"runs must be a whole number from 1 to {MAX_RUNS}", field="runs")
    return int(runs)


def parse_job_spec(
    spec: Mapping[str, object], *, known_questions: Set[str], known_models: Set[str]
) -> JobPlan:
    version = spec.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise BadUserInput(
            f"version must be one of {', '.join(SUPPORTED_VERSIONS)}, got {version!r}",
            field="version",
        )
    benchmark = _object(spec.get("benchmark"), "benchmark")
    benchmark_name = _text(benchmark.get("name"), "benchmark.name")
    constraints = _optional_object(spec, "constraints")
    metadata = _optional_object(spec, "metadata")
    regions = _regions(constraints.get("regions"), "constraints.regions")
    questions = _questions(spec, known_questions)
    models = _models(spec, metadata, regions, known_models)

    min_regions_raw = constraints.get("min_regions", 1)
    min_regions = _number(min_regions_raw, "constraints.min_regions", 1, len(regions))
    if min_regions != int(min_regions):
        raise BadUserInput("constraints.min_regions must be a whole number")
    min_success_rate = _number(
        constraints.get("min_success_rate", 0), "constraints.min_success_rate", 0.0, 1.0
    )
    timeout = constraints.get("timeout")
    provider_timeout = constraints.get("provider_timeout")
    generation = _generation(spec)
    spec_id = spec.get("id")

    plan = JobPlan(
        spec_id=spec_id if isinstance(spec_id, str) else None,
        benchmark_name=benchmark_name,
        question_ids=questions,
        models=models,
        regions=regions,
        min_regions=int(min_regions),
        min_success_rate=min_success_rate,
        temperature=generation.temperature,
        max_tokens=generation.max_tokens,
        top_p=generation.top_p,
        runs=_runs(spec),
        timeout_seconds=None if timeout is None else parse_timeout(timeout, "constraints.timeout"),
        provider_timeout_seconds=None
        if provider_timeout is None
        else parse_timeout(provider_timeout, "constraints.provider_timeout"),
        nonce=_text(metadata.get("nonce"), "metadata.nonce"),
        signed_at=parse_timestamp(metadata.get("timestamp")),
    )
    if plan.expected > MAX_EXECUTIONS:
        raise BadUserInput(
            f"the job would run {plan.expected} executions; the limit is {MAX_EXECUTIONS}",
            field="runs" if plan.runs > 1 else None,
        )
    return plan


def model_regions_summary(models: Sequence[ModelChoice]) -> list[dict[str, object]]:
    """The models as stored on the job row."""
    return [{"id": m.id, "name": m.name, "regions": list(m.regions)} for m in models]
