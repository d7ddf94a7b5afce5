"""Signed receipts: every execution's, each job's Merkle root, and `beacon-gql verify`."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from beacon_gql.config import Settings
from beacon_gql.jobs.canonical import canonical_json
from beacon_gql.providers.simulator import SimulatorFleet
from beacon_gql.receipts.keys import load_keyring, new_key_file_content, rotate_key_file
from beacon_gql.receipts.merkle import (
    inclusion_proof,
    leaf_hash,
    merkle_root,
    verify_inclusion,
)
from beacon_gql.receipts.payload import flat_canonical_json, sha256_text
from beacon_gql.receipts.verify import verify_export
from tests.conftest import make_settings
from tests.support.databases import copy_sqlite
from tests.support.graphql import GraphQLClient
from tests.support.jobs import submit_spec, wait_until_finished
from tests.support.processes import beacon_process
from tests.support.server import ServedApp, serve_app
from tests.support.specs import Signer, make_spec
from tests.support.ws import PROGRESS, subscribe

PROJECT = Path(__file__).resolve().parents[1]

# --- the Merkle tree --------------------------------------------------------------------------

# The RFC 6962 reference leaves and tree heads used by the Certificate Transparency
# implementations' tests (certificate-transparency-go, merkletree tests).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(1, 9))
def test_merkle_roots_match_the_rfc_6962_reference_tree_heads(size: int) -> None:
    assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_every_inclusion_proof_verifies_and_a_changed_leaf_does_not() -> None:
    for size in range(1, 40):
        leaves = [f"leaf {n}".encode() for n in range(size)]
        root = merkle_root(leaves)
        for index in range(size):
            path = inclusion_proof(leaves, index)
            assert verify_inclusion(leaves[index], index, size, path, root)
            assert not verify_inclusion(leaves[index] + b"!", index, size, path, root)
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(leaves[index], other, size, path, root)
    assert leaf_hash(b"") != merkle_root([b"", b""])


# --- keys -------------------------------------------------------------------------------------


def test_the_default_key_is_made_under_dot_beacon_once_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING, logger="beacon_gql.receipts"):
        first = load_keyring(None)
    made = tmp_path / ".beacon" / "signing-key.json"
    assert made.exists()
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    assert any("created a new receipt signing key" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="beacon_gql.receipts"):
        again = load_keyring(None)
    assert again.key_id == first.key_id
    assert not caplog.records


def test_rotation_keeps_the_old_public_key_published_as_retired(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(new_key_file_content()))
    before = load_keyring(path)
    old, new = rotate_key_file(path)
    after = load_keyring(path)
    assert old == before.key_id and new == after.key_id != old
    listed = {entry["keyId"]: entry["status"] for entry in after.document()["keys"]}
    assert listed == {new: "current", old: "retired"}
    assert "privateKey" not in json.dumps(after.document())


# --- a real job through the real server ------------------------------------------------------


@dataclass
class Finished:
    app: ServedApp
    job_id: str
    key_file: Path

    @property
    def url(self) -> str:
        return self.app.base_url + "/graphql"


@asynccontextmanager
async def finished_job(
    settings: Settings, signer: Signer, tmp_path: Path
) -> AsyncIterator[Finished]:
    """A finished job where ASIA has no provider: 24 answers and 12 failures, all signed."""
    key_file = tmp_path / "signing-key.json"
    key_file.write_text(json.dumps(new_key_file_content()))
    async with SimulatorFleet(seed=0, regions=["US", "EU"]) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        tuned = replace(
            settings, providers_file=providers, signing_key_file=key_file, max_attempts=1
        )
        async with serve_app(tuned, run_worker=True) as app:
            job_id = await submit_spec(app.services, signer, make_spec())
            final = await wait_until_finished(app.services, job_id)
            assert final.job_status == "PARTIAL"
            yield Finished(app, job_id, key_file)


async def run_cli(*args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        *args,
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def one_db_settings(sqlite_template: Path, tmp_path: Path, trust_file: Path) -> Settings:
    return make_settings(copy_sqlite(sqlite_template, tmp_path), trust_file)


def problems(export: dict[str, Any], keys: dict[str, Any]) -> list[str]:
    return [str(problem) for problem in verify_export(export, keys).problems]


async def test_an_export_verifies_and_every_tampering_is_named(
    settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    """On both databases: PostgreSQL records the worker's receipts with one UPDATE per
    batch (arrays of values), SQLite with one per execution."""
    async with finished_job(settings, signer, tmp_path) as done:
        keys_url = done.app.base_url + "/.well-known/beacon-keys.json"
        async with httpx.AsyncClient() as http:
            published = (await http.get(keys_url)).json()
        export_file = tmp_path / "job.json"
        code, _, err = await run_cli(
            "export", done.job_id, "--format", "json", "-o", str(export_file), "--url", done.url
        )
        assert code == 0, err
        code, out, err = await run_cli("verify", str(export_file), "--keys", keys_url)

    assert code == 0, out + err
    assert "OK: 36 receipts signed" in out
    assert [k["status"] for k in published["keys"]] == ["current"]
    export = json.loads(export_file.read_text())
    assert export["job"]["receiptRoot"]["leaves"] == 36
    assert problems(export, published) == []
    failed = [e for e in export["executions"] if e["status"] == "FAILED"]
    answered = [e for e in export["executions"] if e["status"] == "COMPLETED"]
    assert len(failed) == 12 and len(answered) == 24
    assert json.loads(failed[0]["receipt"]["payload"])["errorCode"] == "NO_PROVIDER_IN_REGION"
    signed = json.loads(answered[0]["receipt"]["payload"])
    assert signed["responseHash"] == sha256_text(answered[0]["response"])

    def tampered(change: Any) -> list[str]:
        copied = copy.deepcopy(export)
        change(copied)
        return problems(copied, published)

    target = answered[3]
    name = f"execution {target['id']} ("

    def edit(field: str, new: Any) -> Any:
        def change(data: dict[str, Any]) -> None:
            for execution in data["executions"]:
                if execution["id"] == target["id"]:
                    execution[field] = new

        return change

    one_char = target["response"][:-1] + ("X" if target["response"][-1] != "X" else "Y")
    found = tampered(edit("response", one_char))
    assert len(found) == 1 and found[0].startswith(name) and "answer changed" in found[0]

    found = tampered(edit("prompt", target["prompt"] + " "))
    assert len(found) == 1 and found[0].startswith(name) and "prompt changed" in found[0]

    found = tampered(edit("modelId", target["modelId"] + "x"))
    assert len(found) == 1 and "model changed" in found[0] and target["id"] in found[0]

    found = tampered(edit("temperature", 1.5))
    assert len(found) == 1 and "temperature changed" in found[0]

    position = json.loads(target["receipt"]["payload"])["position"]
    found = tampered(
        lambda d: d["executions"].remove(
            next(e for e in d["executions"] if e["id"] == target["id"])
        )
    )
    assert found == [
        f"position {position}: removed: the signed root covers 36 receipts; there the grid has "
        f"({target['questionId']}, {target['modelId']}, {target['region']})"
    ]

    found = tampered(lambda d: d["executions"].append(copy.deepcopy(target)))
    assert len(found) == 1 and found[0].startswith(name) and "2 times (duplicated)" in found[0]

    def edit_payload(data: dict[str, Any]) -> None:
        for execution in data["executions"]:
            if execution["id"] == target["id"]:
                execution["receipt"]["payload"] = execution["receipt"]["payload"].replace(
                    target["modelId"], target["modelId"] + "x"
                )

    found = tampered(edit_payload)
    assert len(found) == 1 and found[0].startswith(name)
    assert "signature does not verify" in found[0]


async def test_a_receipt_signed_by_an_unpublished_key_fails(
    one_db_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    async with finished_job(one_db_settings, signer, tmp_path) as done:
        export_file = tmp_path / "job.json"
        code, _, err = await run_cli(
            "export", done.job_id, "--format", "json", "-o", str(export_file), "--url", done.url
        )
        assert code == 0, err
        published = done.app.services.receipts.keyring.document()
    export = json.loads(export_file.read_text())

    # Someone re-signs one receipt with a key of their own, and adds that key to the
    # export's own key list: against the server's published keys it fails.
    stranger_file = tmp_path / "stranger.json"
    stranger_file.write_text(json.dumps(new_key_file_content()))
    stranger = load_keyring(stranger_file)
    target = export["executions"][5]
    payload = json.loads(target["receipt"]["payload"])
    forged = target["receipt"]["payload"].replace(payload["keyId"], stranger.key_id)
    target["receipt"] = {
        "payload": forged,
        "signature": stranger.sign(forged.encode()),
        "keyId": stranger.key_id,
    }
    export["keys"]["keys"].append(stranger.document()["keys"][0])
    export_file.write_text(json.dumps(export))
    keys_file = tmp_path / "published.json"
    keys_file.write_text(json.dumps(published))

    code, out, _ = await run_cli("verify", str(export_file), "--keys", str(keys_file))

    assert code == 1
    assert f"FAIL execution {target['id']} (" in out
    assert f"signed by key {stranger.key_id}, which is not published" in out


async def test_after_a_key_rotation_old_exports_still_verify_and_a_retry_gets_a_new_root(
    one_db_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    async with finished_job(one_db_settings, signer, tmp_path) as done:
        export_file = tmp_path / "old.json"
        code, _, err = await run_cli(
            "export", done.job_id, "--format", "json", "-o", str(export_file), "--url", done.url
        )
        assert code == 0, err
        old_root = json.loads(export_file.read_text())["job"]["receiptRoot"]
        # Retried after it ended: the failures run again and the root is made anew.
        await done.app.services.control.retry_failed(done.job_id)
        final = await wait_until_finished(done.app.services, done.job_id)
        assert final.job_status == "PARTIAL"
        retried_file = tmp_path / "retried.json"
        code, _, err = await run_cli(
            "export", done.job_id, "--format", "json", "-o", str(retried_file), "--url", done.url
        )
        assert code == 0, err
    retried = json.loads(retried_file.read_text())
    assert retried["job"]["receiptRoot"]["leaves"] == 36
    assert retried["job"]["receiptRoot"]["root"] != old_root["root"]
    assert verify_export(retried, retried["keys"]).ok

    old_key, new_key = rotate_key_file(done.key_file)
    rotated = replace(one_db_settings, signing_key_file=done.key_file)
    async with serve_app(rotated, run_worker=False) as app:
        async with httpx.AsyncClient() as http:
            keys_url = app.base_url + "/.well-known/beacon-keys.json"
            published = (await http.get(keys_url)).json()
        code, out, err = await run_cli("verify", str(export_file), "--keys", keys_url)
    assert {k["keyId"]: k["status"] for k in published["keys"]} == {
        new_key: "current",
        old_key: "retired",
    }
    assert code == 0, out + err
    assert f"signed by key {old_key}" in out


async def test_a_cancelled_job_gets_receipts_and_a_root_for_every_execution(
    api: ServedApp, signer: Signer
) -> None:
    job_id = await submit_spec(api.services, signer, make_spec())
    await api.services.control.cancel(job_id)
    data = await api.client.data(
        """query($id: ID!) { job(id: $id) {
             receiptRoot { root leaves keyId signature }
             executions { id status receipt { payload keyId }
                          receiptProof { leafIndex treeSize root path } } } }""",
        {"id": job_id},
    )
    job = data["job"]
    assert job["receiptRoot"]["leaves"] == 36
    for index, execution in enumerate(job["executions"]):
        payload = json.loads(execution["receipt"]["payload"])
        assert payload["status"] == "CANCELLED" and payload["errorCode"] == "CANCELLED"
        proof = execution["receiptProof"]
        assert proof["leafIndex"] == index and proof["root"] == job["receiptRoot"]["root"]
        assert verify_inclusion(
            execution["receipt"]["payload"].encode(),
            proof["leafIndex"],
            proof["treeSize"],
            [bytes.fromhex(step) for step in proof["path"]],
            bytes.fromhex(proof["root"]),
        )


# --- the payload's canonical form ------------------------------------------------------------

JSON_LEAVES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


# No deadline: on a loaded CI machine one example can take longer than hypothesis's 200 ms.
@hypothesis_settings(deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet=st.characters(max_codepoint=127), max_size=12), JSON_LEAVES, max_size=8
    )
)
def test_the_receipt_writer_writes_exactly_the_job_specs_canonical_json(
    body: dict[str, Any],
) -> None:
    assert flat_canonical_json(body) == canonical_json(body)


async def test_a_worker_process_and_an_api_process_sharing_the_key_file_give_a_verified_export(
    postgres_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    """As deployed: the worker process signs the receipts, the API process publishes the
    keys and signs the root; one BEACON_SIGNING_KEY_FILE for both."""
    key_file = tmp_path / "signing-key.json"
    key_file.write_text(json.dumps(new_key_file_content()))
    async with SimulatorFleet(seed=3) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(postgres_settings, providers_file=providers, signing_key_file=key_file)
        async with beacon_process(
            settings, "serve", "--no-worker", log=tmp_path / "api.log"
        ) as api:
            client = GraphQLClient(api)
            submitted = await client.data(
                """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) {
                     job { id } } }""",
                {"spec": signer.sign(make_spec())},
            )
            job_id = submitted["submitBiasJob"]["job"]["id"]
            async with beacon_process(settings, "worker", log=tmp_path / "worker.log"):
                async with asyncio.timeout(90):
                    async for _ in subscribe(api, PROGRESS, {"jobId": job_id}):
                        pass
            await client.aclose()
            export_file = tmp_path / "job.json"
            code, _, err = await run_cli(
                "export",
                job_id,
                "--format",
                "json",
                "-o",
                str(export_file),
                "--url",
                api + "/graphql",
            )
            assert code == 0, err
            code, out, err = await run_cli(
                "verify", str(export_file), "--keys", api + "/.well-known/beacon-keys.json"
            )
    assert code == 0, out + err
    assert "OK: 36 receipts signed" in out
