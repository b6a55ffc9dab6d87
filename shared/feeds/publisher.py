"""Publishes feed messages through the notifier: sequence-stamped, books conflated.

Every message has one argument, the envelope
`{"stream": ..., "epoch": "...", "seq": n, "data": {...}}`.

`seq` counts 1, 2, 3, ... per stream within one `epoch`.

Account streams (`account:{id}`) and the admin stream are numbered in the store when the
publisher has one (`streams`): every process that pushes to an account or to the admins (a
restarted one, another Function App instance) takes the next numbers from the same counter,
under the stream's one epoch, so the stream continues across restarts and replicas. Numbers
are taken per batch (`numbers`), so messages that several processes push at once may arrive
slightly out of order: a client waits a moment for a missing number before it re-syncs.

Instrument streams (trades, book) are numbered in memory by the one process that holds the
instrument, under the publisher's own random `epoch` (drawn once per process): a restarted
matcher, or the next holder of the instrument, numbers them afresh under a new epoch. A
client that sees a jump in `seq` or a different `epoch` re-syncs the stream over REST.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import cast

from shared.all_finished import all_finished
from shared.feeds.conflater import BookConflater
from shared.feeds.sequencer import FeedSequencer
from shared.feeds.streams import (
    ADMIN_STREAM,
    AUDIT_RECORDED,
    BOOK,
    EXECUTION_REPORTED,
    ORDER_UPDATED,
    TRADE,
    account_stream,
    book_group,
    trades_group,
)
from shared.observability.stages import feed_message_sent as observed
from shared.ports.notifier import Notifier
from shared.ports.store_feeds import FeedPosition, FeedStreamRepository

Data = Mapping[str, object]
_ACCOUNT = account_stream("")


class Numbers:
    """Sequence numbers handed out to one stream, used in order: `take()` the next one,
    `skip(n)` those of messages nobody could receive. `heard` is False for the numbers of
    an account nobody hears (`FeedPublisher.batch_numbers`): they can only be skipped."""

    __slots__ = ("_last", "_next", "epoch", "heard")

    def __init__(self, epoch: str, first: int, last: int, heard: bool = True) -> None:
        self.epoch = epoch
        self._next = first
        self._last = last
        self.heard = heard

    def take(self) -> int:
        if self._next > self._last or not self.heard:
            raise ValueError("every number of this block is used")
        seq = self._next
        self._next += 1
        return seq

    def skip(self, count: int = 1) -> None:
        if self.heard:
            for _ in range(count):
                self.take()


_UNHEARD = Numbers("", 1, 0, heard=False)


class FeedPublisher:
    """The per-account and per-instrument streams of the live feeds."""

    def __init__(
        self,
        notifier: Notifier,
        *,
        sequencer: FeedSequencer | None = None,
        conflater: BookConflater[Data] | None = None,
        books_per_second: float = 10.0,
        epoch: str | None = None,
        streams: FeedStreamRepository | None = None,
    ) -> None:
        self._notifier = notifier
        self.epoch = epoch or secrets.token_hex(8)
        self._streams = streams
        # Accounts whose stream already shows a gap for the messages nobody heard since
        # (durable streams only): their next unheard messages need no number.
        self._gap_shown: set[str] = set()
        self.sequencer = sequencer or FeedSequencer()
        self.conflater = conflater or BookConflater(books_per_second)
        self._locks: dict[str, asyncio.Lock] = {}

    def _durable(self, stream: str) -> bool:
        return self._streams is not None and (stream.startswith(_ACCOUNT) or stream == ADMIN_STREAM)

    async def numbers(self, stream: str, count: int) -> Numbers:
        """The next `count` numbers of `stream`, for the caller to use in order."""
        if self._streams is not None and self._durable(stream):
            position = await self._streams.advance(stream, count)
            return Numbers(position.epoch, position.seq - count + 1, position.seq)
        first = self.sequencer.last(stream) + 1
        for _ in range(count):
            self.sequencer.next(stream)
        return Numbers(self.epoch, first, first + count - 1)

    async def account_numbers(self, account_id: str, count: int) -> Numbers:
        """`numbers` of the account's stream: a batch of pushes takes them at once."""
        return await self.numbers(account_stream(account_id), count)

    async def batch_numbers(
        self, counts: Sequence[tuple[str, int, bool]], alongside: Awaitable[None] | None = None
    ) -> dict[str, Numbers]:
        """The numbers of a batch of account messages, by account: (account id, messages,
        whether the account is heard now), in one store call, run together with
        `alongside` (awaited in any case).

        An account nobody hears needs its messages numbered only so that a client that
        comes back sees it missed some. In memory every message still gets its number (it
        costs nothing); with durable streams one number per stretch nobody hears is enough:
        the account is then marked until it is heard again or a client reads where its
        stream stands (`position`), so such batches usually write nothing. Its numbers
        here can only be skipped."""
        wanted: list[tuple[str, int]] = []
        for account_id, count, heard in counts:
            if heard or self._streams is None:
                wanted.append((account_id, count))
                self._gap_shown.discard(account_id)
            elif account_id not in self._gap_shown:
                wanted.append((account_id, 1))
                self._gap_shown.add(account_id)
        taken: list[Numbers] = []
        if not wanted:
            if alongside is not None:
                await alongside
        elif alongside is None:
            taken = await self.accounts_numbers(wanted)
        else:
            _, got = await all_finished([alongside, self.accounts_numbers(wanted)])
            taken = cast("list[Numbers]", got)
        blocks = dict(zip((a for a, _ in wanted), taken, strict=True))
        heard_now = {account_id for account_id, _, heard in counts if heard}
        return {
            account_id: blocks[account_id]
            if account_id in heard_now or self._streams is None
            else _UNHEARD
            for account_id, _, _ in counts
        }

    async def accounts_numbers(self, counts: Sequence[tuple[str, int]]) -> list[Numbers]:
        """`account_numbers` of each (account id, count), in one store call."""
        streams = [(account_stream(account_id), count) for account_id, count in counts]
        if self._streams is None:
            return [await self.numbers(stream, count) for stream, count in streams]
        positions = await self._streams.advance_all(streams)
        return [
            Numbers(position.epoch, position.seq - count + 1, position.seq)
            for position, (_, count) in zip(positions, streams, strict=True)
        ]

    async def _publish(
        self,
        stream: str,
        data: Data,
        send: Callable[[list[object]], Awaitable[None]],
        numbers: Numbers | None = None,
    ) -> int:
        if numbers is None:
            # One lock per stream: numbering and sending happen in the same order.
            lock = self._locks.setdefault(stream, asyncio.Lock())
            async with lock:
                return await self._publish(stream, data, send, await self.numbers(stream, 1))
        seq = numbers.take()
        if stream.startswith(_ACCOUNT):
            self._gap_shown.discard(stream.removeprefix(_ACCOUNT))  # heard: a gap shows again
        envelope = {"stream": stream, "epoch": numbers.epoch, "seq": seq, "data": dict(data)}
        await send([envelope])
        return seq

    async def _to_user(
        self, account_id: str, target: str, data: Data, numbers: Numbers | None
    ) -> int:
        async def send(args: list[object]) -> None:
            await self._notifier.send_to_user(account_id, target, args)

        return observed(
            target, await self._publish(account_stream(account_id), data, send, numbers), data
        )

    async def _to_group(self, group: str, target: str, data: Data) -> int:
        async def send(args: list[object]) -> None:
            await self._notifier.send_to_group(group, target, args)

        return observed(target, await self._publish(group, data, send), data)

    def account_listened(self, account_id: str) -> bool:
        """Whether a push to the account could reach a connection now. When not, the
        caller may skip rendering its messages and `pass_over` them instead."""
        return self._notifier.reaches_user(account_id)

    async def pass_over(self, account_id: str, messages: int = 1) -> None:
        """Number `messages` account messages nobody could receive, without sending them:
        a client that connects later sees the jump in `seq` and re-syncs over REST."""
        await self.account_numbers(account_id, messages)

    async def position(self, stream: str) -> FeedPosition:
        """Where `stream` stands now: its epoch and the last number handed out (0: none).
        A durable stream gets its epoch here if nothing was numbered on it yet, so a client
        that reads it first expects the epoch the messages will carry."""
        if self._streams is not None and self._durable(stream):
            self._gap_shown.discard(stream.removeprefix(_ACCOUNT))  # the next unheard: a gap
            return await self._streams.position(stream) or await self._streams.advance(stream, 0)
        return FeedPosition(self.epoch, self.sequencer.last(stream))

    async def order_updated(
        self, account_id: str, order: Data, numbers: Numbers | None = None
    ) -> int:
        """Push an order's new state to its account; returns the stream sequence number
        (the next of `numbers`, when the caller took a batch of them)."""
        return await self._to_user(account_id, ORDER_UPDATED, order, numbers)

    async def execution_reported(
        self, account_id: str, execution: Data, numbers: Numbers | None = None
    ) -> int:
        """Push an execution to its account; returns the stream sequence number."""
        return await self._to_user(account_id, EXECUTION_REPORTED, execution, numbers)

    async def audit_recorded(self, entry: Data) -> int:
        """Push an audit entry to the admins' group (the admin stream, numbered in the
        store: every process that records audit entries continues the same sequence)."""
        return await self._to_group(ADMIN_STREAM, AUDIT_RECORDED, entry)

    async def join_admins(self, user_id: str) -> None:
        """Put every connection of the user (now and later) in the admins' group."""
        await self._notifier.add_user_to_group(user_id, ADMIN_STREAM)

    async def leave_admins(self, user_id: str) -> None:
        """Take the user (all its connections) out of the admins' group."""
        await self._notifier.remove_user_from_group(user_id, ADMIN_STREAM)

    async def trade(self, instrument: str, trade: Data) -> int:
        """Push a trade to the instrument's trades group."""
        return await self._to_group(trades_group(instrument), TRADE, trade)

    async def book(self, instrument: str, book: Data) -> int | None:
        """Push an L2 book now if the instrument's rate allows, else hold it (see flush_books)."""
        ready = self.conflater.offer(instrument, book)
        if ready is None:
            return None
        return await self._to_group(book_group(instrument), BOOK, ready)

    async def flush_books(self) -> int:
        """Send the held-back books that are due; how many were sent."""
        due = self.conflater.due()
        for instrument, book in due:
            await self._to_group(book_group(instrument), BOOK, book)
        return len(due)

    async def run_book_flusher(self, idle_wait: float = 0.05) -> None:
        """Flush held-back books as they fall due, until cancelled."""
        while True:
            await self.flush_books()
            wait = self.conflater.next_due_in()
            await asyncio.sleep(idle_wait if wait is None else max(wait, 0.001))
