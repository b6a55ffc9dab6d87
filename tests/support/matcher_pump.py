"""A stand-in for the matcher service in tests: drains the `orders` queue through the real
matching engine (one per instrument), publishes each command's events as one EventBatch on
`executions`, and feeds those messages to the Function App's executions trigger handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import azure.functions as func

from matcher.engine.engine import MatchingEngine
from shared.adapters.bus_functions import to_functions_message
from shared.domain.events import Event
from shared.messages import EventBatch, decode_command, event_batch_message
from shared.ports.bus import Bus, BusMessage

Handler = Callable[[func.ServiceBusMessage], Awaitable[object]]


class MatcherPump:
    def __init__(
        self, bus: Bus, orders_queue: str = "orders", executions_queue: str = "executions"
    ):
        self.bus = bus
        self.orders_queue = orders_queue
        self.executions_queue = executions_queue
        self.engines: dict[str, MatchingEngine] = {}
        self.done_commands: set[str] = set()
        self.batches: list[EventBatch] = []

    def engine(self, symbol: str) -> MatchingEngine:
        if symbol not in self.engines:
            self.engines[symbol] = MatchingEngine(symbol)
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
                        engine = self.engine(command.symbol)
                        engine.handle(command, out)
                        engine.keep_positions(out)  # (reduce-only orders count positions)
                        if out:
                            batch = EventBatch(
                                command.symbol,
                                command.command_id,
                                out[0].seq,
                                out[-1].seq,
                                tuple(out),
                            )
                            self.batches.append(batch)
                            await self.bus.send(self.executions_queue, [event_batch_message(batch)])
                        ran += 1
                    await receiver.complete(message)
            finally:
                await receiver.close()

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
