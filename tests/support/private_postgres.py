"""A PostgreSQL cluster of the test's own, to stop and start while the code under test runs.

The shared server serves everyone's tests, so restarting it is not an option: this one is
made with initdb in a temporary directory and listens on a free loopback port. PostgreSQL
refuses to run as root, so as root the cluster belongs to, and runs as, the `postgres` user.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import pytest

from tests.support.processes import free_port

ShutdownMode = Literal["fast", "immediate"]


def _bin_dir() -> Path:
    configured = os.environ.get("BEACON_TEST_POSTGRES_BIN")
    if configured:
        return Path(configured)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    # Debian and Ubuntu keep the server programs out of PATH.
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if not versions:
        pytest.fail(
            "the fault tests need PostgreSQL's server programs (initdb, pg_ctl) to run a "
            "cluster of their own: install them or set BEACON_TEST_POSTGRES_BIN"
        )
    return Path(versions[-1]).parent


def _version(initdb: str) -> int:
    return int(Path(initdb).parent.parent.name)


class PrivatePostgres:
    """One cluster, started by `running_private_postgres()`; `restart()` keeps its port."""

    def __init__(
        self,
        directory: Path,
        bin_dir: Path,
        port: int,
        *,
        listen: str = "127.0.0.1",
        prefix: Sequence[str] = (),
    ) -> None:
        """`listen`: the address it listens on; `prefix`: what its programs run under (such
        as `ip netns exec NAME`, to run it in a network namespace)."""
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self.listen = listen
        self._prefix = list(prefix)
        self._bin = bin_dir
        self._owner = "postgres" if os.geteuid() == 0 else None

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@{self.listen}:{self.port}/postgres"

    def socket_url(self, database: str = "postgres") -> str:
        """Through its Unix socket, which any network namespace on this machine can reach."""
        return f"postgresql://postgres@/{database}?host={self.directory}&port={self.port}"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", self._owner, "--", *command]
        subprocess.run([*self._prefix, *command], check=True, capture_output=True, timeout=60)

    def initdb(self) -> None:
        if self._owner is not None:
            owner = pwd.getpwnam(self._owner)
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
        # No fsync: the cluster lives for one test session and crash safety is not its topic.
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        if self.listen != "127.0.0.1":
            # initdb trusts loopback only; in a namespace of its own, the hosts beside it on
            # its one network (`samenet`) are the test's other hosts.
            with (self.data / "pg_hba.conf").open("a") as rules:
                rules.write("host all all samenet trust\n")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses={self.listen} -c fsync=off "
            "-c max_connections=200"
        )
        log = self.directory / "postgres.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start")

    def stop(self, mode: ShutdownMode = "fast") -> None:
        """`fast` ends every session and checkpoints; `immediate` is a crash (recovery follows)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    async def restart(self, mode: ShutdownMode = "fast") -> None:
        """Stop, then start on the same port and data; returns once it accepts connections."""
        await asyncio.to_thread(self.stop, mode)
        await asyncio.to_thread(self.start)


@contextmanager
def running_private_postgres(
    *, listen: str = "127.0.0.1", prefix: Sequence[str] = ()
) -> Iterator[PrivatePostgres]:
    directory = Path(tempfile.mkdtemp(prefix="beacon-pg-"))
    cluster = PrivatePostgres(directory, _bin_dir(), free_port(), listen=listen, prefix=prefix)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
