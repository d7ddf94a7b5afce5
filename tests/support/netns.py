"""Hosts on one machine: network namespaces joined by veth pairs to a bridge.

`hosts(["db", "api1", ...])` makes a namespace per host with its loopback up and one
interface `eth0` on a private /24 of its own choosing, every `eth0` plugged (through a veth
pair) into a bridge that lives in one more namespace, the switch. The root namespace is not
touched: no interface, address or route is added to it. On exit every namespace is deleted,
which removes its interfaces with it. Needs root and iproute2's `ip`.

A program runs on a host under `host.exec` (`ip netns exec NAME ...`); a thread of the test
process joins a host's network with `in_namespace`, so its sockets are that host's.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import random
import shutil
import subprocess
import threading
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Host:
    role: str
    namespace: str
    address: str

    @property
    def exec(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace]


def available() -> str | None:
    """Why these hosts cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextmanager
def hosts(roles: Sequence[str]) -> Iterator[dict[str, Host]]:
    tag = uuid.uuid4().hex[:6]
    # 10.(200-249).x.0/24: private, and only ever inside these namespaces.
    subnet = f"10.{random.randint(200, 249)}.{random.randint(0, 255)}"
    switch = f"bgq-{tag}-sw"
    made: list[str] = []
    try:
        _ip("netns", "add", switch)
        made.append(switch)
        _ip("-n", switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", switch, "link", "set", "br0", "up")
        found: dict[str, Host] = {}
        for number, role in enumerate(roles, start=2):
            namespace = f"bgq-{tag}-{role}"
            _ip("netns", "add", namespace)
            made.append(namespace)
            port = f"p{tag}{number}"  # the switch's side, at most 15 characters
            _ip(
                "-n", switch, "link", "add", port, "type", "veth",
                "peer", "name", "eth0", "netns", namespace,
            )  # fmt: skip
            _ip("-n", switch, "link", "set", port, "master", "br0", "up")
            address = f"{subnet}.{number}"
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            _ip("-n", namespace, "link", "set", "eth0", "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            found[role] = Host(role=role, namespace=namespace, address=address)
        yield found
    finally:
        for namespace in reversed(made):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)


def enter(host: Host) -> None:
    """Moves the calling thread (only it) into the host's network namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    descriptor = os.open(f"/var/run/netns/{host.namespace}", os.O_RDONLY)
    try:
        if libc.setns(descriptor, CLONE_NEWNET) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"setns into {host.namespace}: {os.strerror(error)}")
    finally:
        os.close(descriptor)


class HostLoop:
    """An event loop on a thread of its own inside a host's network: what a coroutine run
    here connects to, it connects to from that host."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=f"host-{host.role}")
        self._thread.start()
        self._started.wait(10)
        if self._failure is not None:
            raise self._failure

    def _serve(self) -> None:
        try:
            enter(self.host)
        except BaseException as error:  # handed to the constructor
            self._failure = error
            self._started.set()
            return
        asyncio.set_event_loop(self._loop)
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    def close(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
