"""A stand-in for the matcher service in tests: drains the `orders` queue through the real
venues (the matching engine and the paper fill simulator, one pair per instrument),
publishes each command's events as one EventBatch on `executions`, and feeds those messages
to the Function App's executions trigger handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func

from matcher.service.outbox import journal_entry
from matcher.service.venue import Venue, new_venue
from shared.adapters.bus_functions import to_functions_message
from shared.domain.events import Event
from shared.messages import EventBatch, decode_command, event_batch_message
from shared.ports.bus import Bus, BusMessage
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_journal import JournalRepository
from shared.venue_requests import issued, request_messages

Handler = Callable[[func.ServiceBusMessage], Awaitable[object]]


class MatcherPump:
    def __init__(
        self,
        bus: Bus,
        orders_queue: str = "orders",
        executions_queue: str = "executions",
        clock: Callable[[], int] | None = None,
        journal: JournalRepository | None = None,
        instruments: InstrumentRepository | None = None,
        venues_queue: str = "venues",
    ):
        self.instruments_repo = instruments  # sizes the requests for external venues
        self.venues_queue = venues_queue
        self.bus = bus
        self.clock = clock  # the matcher's wall clock: each batch's processing time
        self.journal = journal  # where the matcher journals each command's events
        self.orders_queue = orders_queue
        self.executions_queue = executions_queue
        self.engines: dict[str, Venue] = {}
        self.done_commands: set[str] = set()
        self.batches: list[EventBatch] = []
        # symbol -> (maker fee, taker fee, reference price), as the matcher reads them
        self.instruments: dict[str, tuple[int, int, int]] = {}

    def engine(self, symbol: str) -> Venue:
        if symbol not in self.engines:
            self.engines[symbol] = new_venue(symbol, *self.instruments.get(symbol, (0, 0, 0)))
        return self.engines[symbol]

    async def match(self) -> int:
        """Run every queued command through its engine; returns how many ran."""
        ran = 0
        while True:
            receiver = await self.bus.accept_session(self.orders_queue, max_wait=0.0)
            if receiver is None:
                return ran
            try:
                for message in await receiver.receive(max_count=1000, max_wait=0.0):
                    command = decode_command(message.body)
                    if command.command_id not in self.done_commands:  # the matcher's dedupe
                        self.done_commands.add(command.command_id)
                        out: list[Event] = []
                        self.engine(command.symbol).handle(command, out)  # (folds positions)
                        if out:
                            at = 0 if self.clock is None else self.clock()
                            processed = ((out[0].seq, at),) if at else ()
                            if self.journal is not None:
                                entry = journal_entry(command.symbol, command.to_dict(), out, at)
                                await self.journal.append([entry])
                            batch = EventBatch(
                                command.symbol,
                                command.command_id,
                                out[0].seq,
                                out[-1].seq,
                                tuple(out),
                                processed,
                            )
                            self.batches.append(batch)
                            await self.bus.send(self.executions_queue, [event_batch_message(batch)])
                            await self._venue_requests(command.symbol, out)
                        ran += 1
                    await receiver.complete(message)
            finally:
                await receiver.close()

    async def _venue_requests(self, symbol: str, out: list[Event]) -> None:
        """As the worker's outbox: the external venues' requests to their gateways."""
        events = issued([(None, out)])  # type: ignore[list-item]
        if events and self.instruments_repo is not None:
            instrument = await self.instruments_repo.get(symbol)
            assert instrument is not None
            await self.bus.send(self.venues_queue, request_messages(events, instrument))

    async def project(self, handler: Handler) -> list[BusMessage]:
        """Hand every queued event batch to the trigger handler; a failing message is
        abandoned (as the Functions host does) and returned."""
        failed: list[BusMessage] = []
        while True:
            receiver = await self.bus.accept_session(self.executions_queue, max_wait=0.0)
            if receiver is None:
                return failed
            try:
                messages = await receiver.receive(max_count=1000, max_wait=0.0)
                if not messages:
                    return failed
                for message in messages:
                    try:
                        await handler(to_functions_message(message))
                    except Exception:
                        await receiver.abandon(message)
                        failed.append(message)
                        break  # the session waits for the failed message's redelivery
                    await receiver.complete(message)
            finally:
                await receiver.close()
            if failed:
                return failed

    async def run(self, handler: Handler) -> None:
        """Match and project until both queues are empty."""
        while True:
            ran = await self.match()
            failed = await self.project(handler)
            if failed:
                raise AssertionError(f"{len(failed)} event batches failed to project")
            if not ran:
                return
