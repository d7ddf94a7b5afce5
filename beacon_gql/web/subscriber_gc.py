"""Keeps long-lived subscriptions out of the garbage collector's full passes.

Each WebSocket subscription holds about 300 container objects for as long as it runs
(strawberry's operation with its tasks and generators, the socket, the context and its
loaders). CPython's collector walks every tracked object on each full pass, and it makes one
once the objects that reached its oldest generation since the last pass exceed a quarter of
those it kept: after a wave of subscribers joined, that pass (150-300 ms with 1,000 of them
on a busy machine, seconds with 10,000) comes at the next burst of allocations, which is the
fan-out of an event, and every subscriber of that event gets it that much later. It was the
p99 of bench/bench_fanout.py: one event in 24 delayed for all 1,000 subscribers.

So, as the app's start-up does for modules and the schema (web/app.py), the objects of
established subscriptions are frozen (`gc.freeze`): a full collection of what is not frozen
yet, then freeze. That collection walks only what came since the last freeze, and it runs at a
quiet moment (no subscriber joined or left and no event was delivered for QUIET_S), or at once
when JOIN_BATCH subscribers joined since the last, so that its cost stays bounded while
subscribers keep coming.

Frozen objects are still freed by reference counting when their subscription ends; only
those in reference cycles wait for the collector, which skips them while they are frozen.
So once more than a quarter of the subscribers alive at the last freeze have left (the
collector's own rule, applied to departures), everything is given back to the collector
(`gc.unfreeze`, which costs nothing), and frozen again at the next quiet moment after a full
collection; until then the collector's own passes reclaim the cycles as before. Garbage
kept frozen is thus bounded by a quarter of the subscribers' objects, plus what other work
had in flight at a freeze. Once no subscriber is left, the freeze (then only start-up's, given
back with the rest) is done again after IDLE_REFREEZE_S of quiet, not QUIET_S: what is alive
just after the last subscribers left is mostly their teardown, which a freeze would keep
(tests/test_subscription.py's two hundred subscribers saw it as memory held after they left).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Final

QUIET_S: Final = 0.25
JOIN_BATCH: Final = 256
IDLE_REFREEZE_S: Final = 5.0


class SubscriberFreezer:
    """Told by the fan-out (web/fanout.py) when a subscriber joins or leaves and when an event
    is delivered. Freezes from the event loop's timers, never inside a delivery; unfreezes as
    a subscriber leaves (it costs nothing: the collector's own passes then do the work)."""

    def __init__(
        self,
        quiet_s: float = QUIET_S,
        join_batch: int = JOIN_BATCH,
        idle_refreeze_s: float = IDLE_REFREEZE_S,
    ) -> None:
        self._quiet_s = quiet_s
        self._idle_refreeze_s = idle_refreeze_s
        self._join_batch = join_batch
        self._alive = 0
        # Subscribers that joined since the last freeze (their objects are not frozen yet).
        self._joined = 0
        self._left = 0
        # Subscribers alive at the last freeze; 0 when nothing of theirs is frozen.
        self._frozen_members = 0
        # Everything was given back to the collector: freeze again at the next quiet moment.
        self._thawed = False
        self._last_activity = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        # Freezes done (for tests and operators).
        self.freezes = 0
        self._freeze_waiters: list[asyncio.Event] = []

    def joined(self) -> None:
        self._alive += 1
        self._joined += 1
        self._touch()
        if self._joined >= self._join_batch and not self._closed:
            self._schedule(0.0)

    def left(self) -> None:
        self._alive -= 1
        self._left += 1
        if self._frozen_members and self._left > self._frozen_members // 4:
            gc.unfreeze()
            self._frozen_members = 0
            self._thawed = True
        self._touch()

    def active(self) -> None:
        """An event is being delivered: not a quiet moment."""
        self._touch()

    async def frozen(self, count: int) -> None:
        """Returns once `count` freezes have been done (for tests)."""
        while self.freezes < count:
            waiter = asyncio.Event()
            self._freeze_waiters.append(waiter)
            await waiter.wait()

    def close(self) -> None:
        """The app stops: nothing more is frozen (its start-up freeze is given back too)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _touch(self) -> None:
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a timer on another (a test's former) loop never fires
            self._loop, self._timer = loop, None
        self._last_activity = loop.time()
        if self._timer is None and (self._joined or self._thawed):
            self._schedule(self._quiet_s)

    def _schedule(self, delay: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            if delay > 0:
                return
            self._timer.cancel()
        self._timer = self._loop.call_later(delay, self._check)

    def _check(self) -> None:
        self._timer = None
        assert self._loop is not None
        if self._closed:
            return
        if not (self._joined or self._thawed):
            return
        # With no subscriber left, only to give the start-up freeze back, and later: what
        # is alive just after the last ones left is mostly their teardown, which a freeze
        # would keep.
        quiet_s = self._quiet_s if self._alive else self._idle_refreeze_s
        if self._joined < self._join_batch or not self._alive:
            remaining = self._last_activity + quiet_s - self._loop.time()
            if remaining > 0:
                self._schedule(remaining)
                return
        gc.collect()
        gc.freeze()
        self.freezes += 1
        self._frozen_members = self._alive
        self._joined = self._left = 0
        self._thawed = False
        waiters, self._freeze_waiters = self._freeze_waiters, []
        for waiter in waiters:
            waiter.set()
