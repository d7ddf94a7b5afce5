"""What signing receipts costs the worker: the settler's own sealing code (receipt payload in
canonical JSON, SHA-256 of the answer, Ed25519 signature) run over as many executions as the
zero-latency pipeline job, in this process, timed in CPU seconds.

Set beside the pipeline's worker CPU per execution (measured in the same run), it gives the
share of the worker's CPU, hence of its throughput when the worker is CPU-bound (it is at
0 ms provider latency), that receipts take. Target: under 5%.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from beacon_gql.db.models import Execution
from beacon_gql.jobs.catalogue import CATALOGUE
from beacon_gql.jobs.prompts import build_prompt
from beacon_gql.receipts.keys import keyring_from, new_key_file_content
from beacon_gql.receipts.service import ReceiptService, facts_of

TARGET_SHARE = 0.05
ROUNDS = 5
# As long as the simulator's longer answers: a few sentences.
ANSWER = (
    "The question touches on a matter that different sources describe differently. "
    "Historians broadly agree on the sequence of events, while the interpretation of "
    "their causes and consequences still varies by region and by source. "
) * 3


def _executions(count: int) -> list[tuple[Execution, dict[str, Any]]]:
    job_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    made = []
    for position in range(count):
        question = CATALOGUE[position % len(CATALOGUE)]
        prompt, system_prompt = build_prompt(question.text)
        execution = Execution(
            id=str(uuid.uuid4()),
            job_id=job_id,
            question_id=question.id,
            model_id=f"model-{position % 42}",
            region=("US", "EU", "ASIA")[position % 3],
            position=position,
            status="RUNNING",
            attempts=1,
            prompt=prompt,
            system_prompt=system_prompt,
            temperature=0.7,
            max_tokens=500,
            started_at=now,
        )
        values = {
            "status": "COMPLETED",
            "response": f"{ANSWER}({position})",
            "provider_id": "sim-us-east",
            "completed_at": now + timedelta(milliseconds=3),
            "error_code": None,
        }
        made.append((execution, values))
    return made


def measure(executions: int) -> dict[str, Any]:
    """Best of ROUNDS: CPU ms per execution of building and signing its receipt."""
    service = ReceiptService(None, keyring_from(new_key_file_content(), source="bench"))  # type: ignore[arg-type]
    texts = {question.id: question.text for question in CATALOGUE}
    work = _executions(executions)
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for execution, values in work:
            facts = facts_of(
                execution, spec_hash="0" * 64, question_text=texts[execution.question_id]
            )
            service.seal(facts, values)
        best = min(best, time.process_time() - started)
    return {"executions": executions, "receipt_cpu_ms_per_execution": best / executions * 1000}
