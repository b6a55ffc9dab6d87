"""Publishes feed messages through the notifier: sequence-stamped, books conflated.

Every message has one argument, the envelope
`{"stream": ..., "epoch": "...", "seq": n, "data": {...}}`.

`seq` counts 1, 2, 3, ... per stream within one `epoch`. The epoch is a random id drawn when
the publisher is made (once per process), because sequences live in memory: a restarted
process, or another Function App instance, numbers the same stream afresh under a new epoch.
A client that sees a jump in `seq` or a different `epoch` re-syncs the stream over REST.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping

from shared.feeds.conflater import BookConflater
from shared.feeds.sequencer import FeedSequencer
from shared.feeds.streams import (
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

Data = Mapping[str, object]


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
    ) -> None:
        self._notifier = notifier
        self.epoch = epoch or secrets.token_hex(8)
        self.sequencer = sequencer or FeedSequencer()
        self.conflater = conflater or BookConflater(books_per_second)
        self._locks: dict[str, asyncio.Lock] = {}

    async def _publish(
        self, stream: str, data: Data, send: Callable[[list[object]], Awaitable[None]]
    ) -> int:
        # One lock per stream: numbering and sending happen in the same order.
        lock = self._locks.setdefault(stream, asyncio.Lock())
        async with lock:
            seq = self.sequencer.next(stream)
            await send([{"stream": stream, "epoch": self.epoch, "seq": seq, "data": dict(data)}])
            return seq

    async def _to_user(self, account_id: str, target: str, data: Data) -> int:
        async def send(args: list[object]) -> None:
            await self._notifier.send_to_user(account_id, target, args)

        return observed(target, await self._publish(account_stream(account_id), data, send), data)

    async def _to_group(self, group: str, target: str, data: Data) -> int:
        async def send(args: list[object]) -> None:
            await self._notifier.send_to_group(group, target, args)

        return observed(target, await self._publish(group, data, send), data)

    def account_listened(self, account_id: str) -> bool:
        """Whether a push to the account could reach a connection now. When not, the
        caller may skip rendering its messages and `pass_over` them instead."""
        return self._notifier.reaches_user(account_id)

    def pass_over(self, account_id: str, messages: int = 1) -> None:
        """Number `messages` account messages nobody could receive, without sending them:
        a client that connects later sees the jump in `seq` and re-syncs over REST."""
        stream = account_stream(account_id)
        for _ in range(messages):
            self.sequencer.next(stream)

    def last_seq(self, stream: str) -> int:
        """The last sequence number sent on `stream` in this epoch (0 if none)."""
        return self.sequencer.last(stream)

    async def order_updated(self, account_id: str, order: Data) -> int:
        """Push an order's new state to its account; returns the stream sequence number."""
        return await self._to_user(account_id, ORDER_UPDATED, order)

    async def execution_reported(self, account_id: str, execution: Data) -> int:
        """Push an execution to its account; returns the stream sequence number."""
        return await self._to_user(account_id, EXECUTION_REPORTED, execution)

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
