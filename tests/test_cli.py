"""The researcher's CLI: keygen, sign and submit against a running server, as real processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from beacon_gql.config import Settings
from beacon_gql.jobs.signing import verify_spec_signature
from tests.support.server import serve_app
from tests.support.specs import make_spec


async def run_cli(*args: str, cwd: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_keygen_sign_submit_round_trip(settings: Settings, tmp_path: Path) -> None:
    code, output = await run_cli(
        "keygen", "--kid", "alice", "--trust-file", "trusted.json", cwd=tmp_path
    )
    assert code == 0, output
    assert json.loads((tmp_path / "trusted.json").read_text())[0]["kid"] == "alice"
    assert oct((tmp_path / "beacon-key.json").stat().st_mode & 0o777) == "0o600"

    (tmp_path / "spec.json").write_text(json.dumps(make_spec()))
    code, output = await run_cli("sign", "spec.json", "-o", "signed.json", cwd=tmp_path)
    assert code == 0, output
    signed = json.loads((tmp_path / "signed.json").read_text())
    assert verify_spec_signature(signed).public_key == signed["public_key"]
    assert len(signed["metadata"]["nonce"]) == 22

    trusted = replace(settings, trusted_keys_file=tmp_path / "trusted.json")
    async with serve_app(trusted, run_worker=False) as app:
        url = f"{app.base_url}/graphql"
        code, output = await run_cli("submit", "signed.json", "--url", url, cwd=tmp_path)
        assert code == 0, output
        assert "36 executions expected" in output
        code, output = await run_cli("submit", "signed.json", "--url", url, cwd=tmp_path)
        assert code == 2 and "REPLAYED" in output
        code, output = await run_cli(
            "submit", "spec.json", "--key", "beacon-key.json", "--url", url, cwd=tmp_path
        )
        assert code == 0 and "36 executions expected" in output


def test_export_schema_writes_the_checked_in_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "beacon_gql.cli", "export-schema", "-o", "out.graphql"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    checked_in = Path(__file__).resolve().parents[1] / "schema.graphql"
    assert (tmp_path / "out.graphql").read_text() == checked_in.read_text()
