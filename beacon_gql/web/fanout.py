"""jobProgress over WebSockets: each event rendered once per distinct (document, variables),
the same bytes written to every socket that asked for it; only the operation id differs.

Per job followed in this process there is one feed: one progress stream (events/hub.py and
jobs/progress_stream.py: ordering, gaps, rechecks, the final read) instead of one per
subscriber. Its subscribers are grouped by query text, operation name and variables; for each
event the feed executes each group's document once (graphql-core's executor with the
schema's execution context, no per-subscriber extension hooks), encodes the payload once, and
puts `prefix(operation id) + payload` in each subscriber's socket outbox (web/outbox.py:
bounded, drop-to-latest for a client that stops reading). The subscribers' own objects are
kept out of the garbage collector's full passes (web/subscriber_gc.py), which otherwise
delayed a whole event for every subscriber now and then.

A subscriber joins its job's feed before reading its snapshot, and strawberry sends that
snapshot like any first result (validation, limits and authentication are strawberry's, as
before). Events the feed delivers before that snapshot has been sent wait with the member;
anything not newer than the snapshot is skipped, so nothing is lost or repeated between the
two. Every event the feed delivers was committed before it was delivered, so an event older
than a member's joining is never newer than its snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from functools import partial
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, Final

import orjson
from graphql import DocumentNode, ExecutionResult, execute, parse

from beacon_gql.jobs.progress_stream import ProgressUpdate
from beacon_gql.schema.context import BeaconContext
from beacon_gql.schema.errors import CodedErrors
from beacon_gql.schema.shared_render import shared_event
from beacon_gql.schema.subscription import JobProgressEventType
from beacon_gql.telemetry import active_subscription
from beacon_gql.web.outbox import OUTBOX_LIMIT, Outbox, Recipient
from beacon_gql.web.subscriber_gc import SubscriberFreezer

if TYPE_CHECKING:
    import strawberry

    from beacon_gql.services import Services

log = logging.getLogger("beacon_gql.fanout")

GroupKey = tuple[str, str | None, str]
# The message around a `next` payload, per protocol: what comes before it (the operation
# id's JSON goes between the two parts) and after it.
TRANSPORT_WS_NEXT: Final = ('{"id":', ',"type":"next","payload":')
LEGACY_WS_DATA: Final = ('{"type":"data","id":', ',"payload":')


def encode(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # Lone surrogates (the portal puts them in specs) are not UTF-8: the standard
        # library escapes them, as the view's encoder does.
        return json.dumps(value, separators=(",", ":"))


def group_key(query: str, operation_name: str | None, variables: object) -> GroupKey:
    try:
        canonical = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        canonical = json.dumps(variables, sort_keys=True, default=repr)
    return (query, operation_name, canonical)


class Member:
    """One subscriber (an operation on a socket) of a feed."""

    __slots__ = (
        "after",
        "error",
        "feed_over",
        "offered_last",
        "outbox",
        "pending",
        "prefix",
        "recipient",
    )

    def __init__(self, prefix: str, outbox: Outbox) -> None:
        self.prefix = prefix
        self.outbox = outbox
        self.recipient = Recipient()
        # The sequence of its snapshot; None until strawberry has sent that snapshot.
        self.after: int | None = None
        self.pending: list[tuple[int, str, bool]] = []
        self.offered_last = False
        self.feed_over = False
        self.error: BaseException | None = None

    def offer(self, sequence: int, rest: str, last: bool) -> None:
        """`rest`: the encoded payload and the message's closing brace."""
        if self.after is None:
            self.pending.append((sequence, rest, last))
            if len(self.pending) > OUTBOX_LIMIT:
                del self.pending[:-1]  # progress is state: the newest event says it
            return
        if sequence <= self.after:
            return
        self.after = sequence
        self.offered_last = self.offered_last or last
        self.outbox.put(self.recipient, self.prefix + rest, last)

    def start(self, after: int) -> None:
        self.after = after
        pending, self.pending = self.pending, []
        for sequence, rest, last in pending:
            self.offer(sequence, rest, last)
        if self.feed_over and not self.offered_last:
            self.recipient.delivered.set()

    def feed_ended(self, error: BaseException | None) -> None:
        """Nothing more comes: a member whose last event is not on its way ends now (once
        its snapshot is out), or reports the feed's failure."""
        self.feed_over = True
        if error is not None:
            self.error = error
            self.recipient.delivered.set()
        elif self.after is not None and not self.offered_last:
            self.recipient.delivered.set()


class Group:
    """The members that asked the same document with the same variables."""

    def __init__(self, key: GroupKey, variables: dict[str, object] | None) -> None:
        self.document: DocumentNode = parse(key[0])
        self.operation_name = key[1]
        self.variables = variables
        self.members: dict[Member, None] = {}


class Feed:
    def __init__(self, fanout: ProgressFanout, job_id: str, services: Services) -> None:
        self.fanout = fanout
        self.job_id = job_id
        self.services = services
        self.groups: dict[GroupKey, Group] = {}
        # Taking no more members: the job's stream has ended, or is ending.
        self.closed = False
        # The sequence of the last update handed to the members.
        self.delivered: int | None = None
        self.task = asyncio.get_running_loop().create_task(self._run(), name="beacon-fanout")

    def members(self) -> list[Member]:
        return [member for group in self.groups.values() for member in group.members]

    def add(self, key: GroupKey, variables: dict[str, object] | None, member: Member) -> None:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key, variables)
        group.members[member] = None

    def remove(self, member: Member) -> bool:
        """True when the feed has no members left."""
        for key, group in list(self.groups.items()):
            if member in group.members:
                del group.members[member]
                if not group.members:
                    del self.groups[key]
        return not self.groups

    async def _run(self) -> None:
        error: BaseException | None = None
        try:
            stream = self.services.progress.stream(self.job_id, counted=False)
            async for update in stream:
                self.closed = update.is_final
                await self._deliver(update)
        except asyncio.CancelledError:
            raise
        except Exception as failure:
            log.warning(
                "progress feed failed", extra={"job_id": self.job_id, "error": repr(failure)}
            )
            error = failure
        finally:
            self.closed = True
            self.fanout.forget(self)
            for member in self.members():
                member.feed_ended(error)

    async def _deliver(self, update: ProgressUpdate) -> None:
        self.fanout.freezer.active()
        event = shared_event(
            update.source,
            (update.job.id, update.sequence),
            partial(JobProgressEventType.of, update),
        )
        last = update.is_final
        for group in list(self.groups.values()):
            if not group.members:
                continue
            rest = await self.fanout.render(group, event, self.services) + "}"
            for member in list(group.members):
                member.offer(update.sequence, rest, last)
        self.delivered = update.sequence
        self.fanout.freezer.active()


class ProgressFanout:
    """The feeds of this process, by job."""

    def __init__(self, schema: strawberry.Schema) -> None:
        self._schema = schema
        self._feeds: dict[str, Feed] = {}
        self._masker = CodedErrors()
        # The subscriptions' own objects, frozen out of the collector's full passes.
        self.freezer = SubscriberFreezer()

    def join(
        self,
        job_id: str,
        key: GroupKey,
        variables: dict[str, object] | None,
        member: Member,
        services: Services,
    ) -> Feed:
        feed = self._feeds.get(job_id)
        if feed is None or feed.closed:
            feed = self._feeds[job_id] = Feed(self, job_id, services)
        feed.add(key, variables, member)
        self.freezer.joined()
        return feed

    def leave(self, feed: Feed, member: Member) -> None:
        self.freezer.left()
        if feed.remove(member) and not feed.closed:
            feed.closed = True
            feed.task.cancel()
            self.forget(feed)

    def forget(self, feed: Feed) -> None:
        if self._feeds.get(feed.job_id) is feed:
            del self._feeds[feed.job_id]

    def outboxes(self) -> set[Outbox]:
        """The sockets being fed now (for operators and tests)."""
        return {m.outbox for feed in self._feeds.values() for m in feed.members()}

    def delivered_sequence(self, job_id: str) -> int | None:
        """The last sequence the job's feed delivered; None when no feed follows it."""
        feed = self._feeds.get(job_id)
        return None if feed is None else feed.delivered

    async def render(self, group: Group, event: object, services: Services) -> str:
        """The `next` payload of `event` for the group's document, encoded."""
        schema = self._schema
        # A context per event: its loaders read the job as it is now.
        context = BeaconContext(services=services, header_token=None)
        result: Any = execute(
            schema._schema,
            group.document,
            root_value=event,
            context_value=context,
            variable_values=group.variables,
            operation_name=group.operation_name,
            executor_class=schema.execution_context_class,
        )
        if isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        payload: dict[str, object] = {"data": result.data}
        if result.errors:
            payload["errors"] = [self._masker.anonymise_error(e).formatted for e in result.errors]
        return encode(payload)


class WireOperation:
    """web/ws_protocols.py's DirectDelivery for one operation on one socket."""

    def __init__(
        self,
        fanout: ProgressFanout,
        outbox: Outbox,
        framing: tuple[str, str],
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        self._fanout = fanout
        self._outbox = outbox
        self._prefix = framing[0] + encode(operation_id) + framing[1]
        self._key = group_key(query, operation_name, variables)
        self._variables = variables

    async def follow(self, job_id: str, services: Services) -> AsyncIterator[ProgressUpdate]:
        member = Member(self._prefix, self._outbox)
        feed = self._fanout.join(job_id, self._key, self._variables, member, services)
        try:
            async with active_subscription():
                update = await services.progress.snapshot(job_id)
                yield update  # strawberry sends it; this resumes once it has
                if update.is_final:
                    return
                member.start(update.sequence)
                await member.recipient.delivered.wait()
                if member.error is not None:
                    raise member.error
        finally:
            self._outbox.forget(member.recipient)
            self._fanout.leave(feed, member)
