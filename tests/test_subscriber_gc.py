"""web/subscriber_gc.py: established subscriptions' objects are frozen out of the collector's
full passes, at a quiet moment or once a batch joined, and given back once a quarter left."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from beacon_gql.web.subscriber_gc import SubscriberFreezer


class Held:
    """What a subscription holds: a cycle, which only the collector frees."""

    def __init__(self) -> None:
        self.me = self


def frozen(held: list[Held]) -> bool:
    tracked = {id(o) for o in gc.get_objects()}  # frozen objects are not listed
    return not any(id(h) in tracked for h in held)


async def freezes(freezer: SubscriberFreezer, count: int) -> None:
    async with asyncio.timeout(5):
        await freezer.frozen(count)


@pytest.fixture
def thawed_after() -> Iterator[None]:
    yield
    gc.unfreeze()


async def test_frozen_once_quiet_and_given_back_once_a_quarter_left(thawed_after: None) -> None:
    freezer = SubscriberFreezer(quiet_s=0.05, join_batch=1000, idle_refreeze_s=60)
    try:
        held = [Held() for _ in range(4)]
        for _ in held:
            freezer.joined()
        assert not frozen(held)  # not while they keep coming
        await freezes(freezer, 1)
        assert frozen(held)

        freezer.left()
        assert frozen(held)  # one of four: the collector would not look yet either
        freezer.left()
        assert not frozen(held)  # over a quarter: given back, their cycles can go

        await freezes(freezer, 2)  # the two still there, frozen again
        assert frozen(held)
    finally:
        freezer.close()


async def test_a_batch_of_joins_is_frozen_without_waiting_for_quiet(thawed_after: None) -> None:
    freezer = SubscriberFreezer(quiet_s=60, join_batch=3, idle_refreeze_s=60)
    try:
        held = [Held() for _ in range(3)]
        for _ in held:
            freezer.joined()
        await freezes(freezer, 1)
        assert frozen(held)
    finally:
        freezer.close()


async def test_nothing_is_frozen_again_soon_after_the_last_one_left(thawed_after: None) -> None:
    freezer = SubscriberFreezer(quiet_s=0.01, join_batch=1000, idle_refreeze_s=60)
    try:
        freezer.joined()
        await freezes(freezer, 1)
        freezer.left()
        teardown = [Held()]  # alive just after the last subscriber left, gone soon after
        # Several quiet periods (what is checked is that nothing happens, so a sleep).
        await asyncio.sleep(0.1)
        assert freezer.freezes == 1
        assert not frozen(teardown)
    finally:
        freezer.close()
