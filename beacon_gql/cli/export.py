"""`beacon-gql export JOB_ID --format json|csv`: a job's executions and bias analysis.

JSON: one object `{job, executions, analysis}`, in the API's own field names and shapes:
each execution's `sample` and its question's `language` and `translationOf`, the analysis's
censorship intervals per region, model, question and language (and per translation group),
and every key difference's Holm-adjusted `pValue`, `significant` and `languages`.
CSV: one row per execution, flat columns; the analysis cannot be expressed as rows, so with
`--output FILE` it goes to `FILE.analysis.json` next to it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from beacon_gql.cli.client import BeaconClient, ClientError
from beacon_gql.cli.verify import KeysUnavailable, fetch_keys, keys_url
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES

Format = Literal["json", "csv"]
FORMATS: tuple[Format, ...] = ("json", "csv")

_PAIR = """
dimension a b similarity substantiveSimilarity refusalMismatch lengthRatio cellsCompared
"""

_RATE = "censored censorshipRate censorshipInterval { low high }"

EXPORT_QUERY = f"""
query Export($id: ID!) {{
  job(id: $id) {{
    id status createdAt updatedAt finishedAt specId benchmarkName keyId
    regions minRegions minSuccessRate runs
    questions {{ id category text language translationOf }}
    models {{ id name regions }}
    progress {{ expected pending running completed failed cancelled successRate }}
    spec
    receiptRoot {{ root signature keyId leaves signedAt }}
    executions {{
      id questionId question {{ id category text language translationOf }} modelId region sample
      status providerId
      attempts startedAt completedAt durationMs
      classification classificationEvidence
      response prompt systemPrompt temperature maxTokens topP
      error {{ code message stage transient providerId }}
      receipt {{ payload signature keyId }}
    }}
    biasAnalysis {{
      status computedAt executions finished answered runs tests
      biasVariance censorshipRate factualConsistency narrativeDivergence
      keyDifferences {{
        dimension severity questionId regions models languages description evidence pValue
        significant
      }}
      riskAssessment {{ level score reasons }}
      recommendation summary
      regions {{ region executions answered technicalFailures {_RATE} }}
      models {{ model executions answered technicalFailures {_RATE} }}
      languages {{
        language questions executions answered technicalFailures {_RATE}
        models {{ model executions answered technicalFailures {_RATE} }}
      }}
      translationGroups {{
        questionId category
        languages {{ language executions answered technicalFailures {_RATE} }}
      }}
      questions {{
        questionId category
        classifications {{ substantive refusal evasive technicalFailure }}
        refusalRate evasionRate consistency {_RATE}
        regions {{ region executions answered technicalFailures {_RATE} }}
        models {{ model executions answered technicalFailures {_RATE} }}
        regionComparisons {{ {_PAIR} }}
        modelComparisons {{ {_PAIR} }}
      }}
    }}
  }}
}}
"""

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "questionId",
    "questionText",
    "category",
    "questionLanguage",
    "translationOf",
    "modelId",
    "region",
    "sample",
    "status",
    "providerId",
    "attempts",
    "startedAt",
    "completedAt",
    "durationMs",
    "classification",
    "classificationEvidence",
    "errorCode",
    "errorMessage",
    "errorStage",
    "errorTransient",
    "errorProviderId",
    "temperature",
    "maxTokens",
    "topP",
    "systemPrompt",
    "prompt",
    "response",
)


class ExportError(Exception):
    """The export cannot be made; the message says why."""


@dataclass(frozen=True)
class JobExport:
    job: dict[str, Any]
    executions: list[dict[str, Any]]
    analysis: dict[str, Any]
    # The server's receipt keys (/.well-known/beacon-keys.json) when the export was made,
    # for `beacon-gql verify` offline; check them against the server's with --keys.
    keys: dict[str, Any] | None = None

    @classmethod
    def of(cls, job: dict[str, Any], keys: dict[str, Any] | None = None) -> JobExport:
        rest = dict(job)
        executions = rest.pop("executions")
        analysis = rest.pop("biasAnalysis")
        return cls(job=rest, executions=executions, analysis=analysis, keys=keys)

    def as_json(self) -> dict[str, Any]:
        exported = {"job": self.job, "executions": self.executions, "analysis": self.analysis}
        if self.keys is not None:
            exported["keys"] = self.keys
        return exported


async def fetch(client: BeaconClient, job_id: str) -> JobExport:
    try:
        data = await client.execute(EXPORT_QUERY, {"id": job_id})
    except ClientError as error:
        raise ExportError(str(error)) from None
    job = data.get("job")
    if job is None:
        raise ExportError(f"no job with id {job_id!r}")
    try:
        keys = await fetch_keys(keys_url(client.url))
    except KeysUnavailable as error:
        raise ExportError(str(error)) from None
    return JobExport.of(job, keys)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_row(execution: dict[str, Any]) -> dict[str, str]:
    """One execution, flat: the question and the error spread into their own columns;
    the classification evidence as a JSON array (phrases may hold any character)."""
    question = execution.get("question") or {}
    error = execution.get("error") or {}
    flat: dict[str, object] = {
        "id": execution["id"],
        "questionId": execution["questionId"],
        "questionText": question.get("text"),
        "category": question.get("category"),
        "questionLanguage": question.get("language"),
        "translationOf": question.get("translationOf"),
        "modelId": execution["modelId"],
        "region": execution["region"],
        "sample": execution.get("sample"),
        "status": execution["status"],
        "providerId": execution.get("providerId"),
        "attempts": execution.get("attempts"),
        "startedAt": execution.get("startedAt"),
        "completedAt": execution.get("completedAt"),
        "durationMs": execution.get("durationMs"),
        "classification": execution.get("classification"),
        "classificationEvidence": json.dumps(
            execution.get("classificationEvidence") or [], ensure_ascii=False
        ),
        "errorCode": error.get("code"),
        "errorMessage": error.get("message"),
        "errorStage": error.get("stage"),
        "errorTransient": error.get("transient"),
        "errorProviderId": error.get("providerId"),
        "temperature": execution.get("temperature"),
        "maxTokens": execution.get("maxTokens"),
        "topP": execution.get("topP"),
        "systemPrompt": execution.get("systemPrompt"),
        "prompt": execution.get("prompt"),
        "response": execution.get("response"),
    }
    return {column: _cell(flat[column]) for column in CSV_COLUMNS}


def to_csv(executions: Sequence[dict[str, Any]]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for execution in executions:
        writer.writerow(csv_row(execution))
    return buffer.getvalue()


def to_json(export: JobExport) -> str:
    return json.dumps(export.as_json(), indent=2, ensure_ascii=False) + "\n"


def analysis_path(output: Path) -> Path:
    return output.with_name(output.name + ".analysis.json")


def _write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file, and a failed export leaves no wreck behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_export(
    export: JobExport,
    fmt: Format,
    output: Path | None,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> None:
    job = export.job
    if job["status"] not in TERMINAL_JOB_STATUSES:
        err.write(
            f"beacon-gql export: job {job['id']} is still {job['status']}; "
            f"the analysis is {export.analysis['status']}\n"
        )
    text = to_json(export) if fmt == "json" else to_csv(export.executions)
    if output is None:
        out.write(text)
        out.flush()
    else:
        _write_atomically(output, text)
        err.write(f"wrote {len(export.executions)} executions to {output}\n")
    if fmt != "csv":
        return
    if output is None:
        err.write(
            "beacon-gql export: the CSV holds the executions only; for the analysis use "
            "--format json, or --output FILE to also get FILE.analysis.json\n"
        )
        return
    side = analysis_path(output)
    _write_atomically(side, json.dumps(export.analysis, indent=2, ensure_ascii=False) + "\n")
    err.write(f"wrote the bias analysis ({export.analysis['status']}) to {side}\n")


async def export(
    job_id: str,
    url: str,
    fmt: Format,
    output: Path | None = None,
    *,
    token: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Exports a job; returns the CLI exit code (0, or 2 on errors)."""
    try:
        data = await fetch(BeaconClient(url, token=token), job_id)
    except ExportError as error:
        err.write(f"beacon-gql export: {error}\n")
        return 2
    write_export(data, fmt, output, out=out, err=err)
    return 0
