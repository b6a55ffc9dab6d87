"""Feeds the Function App's trigger functions from the bus, as the Functions host does.

Each registered function is called the way the host would: Service Bus triggers get a
`func.ServiceBusMessage` (completed when the function returns, abandoned when it raises, so
the queue's max delivery count dead-letters a poison message); session-enabled triggers take
one session at a time per slot; timer triggers run on their schedule (seconds granularity).

Session slots take turns as the matcher's do: while every slot holds a session, a slot gives
its session up once it has held it SHARE_AFTER seconds or finds no message waiting, so the
events of an instrument nobody was holding are applied within a few turns, however many
instruments keep the others busy (otherwise a slot keeps an idle session about a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from azure.functions.decorators.function_app import FunctionRegister

from shared.adapters.bus_functions import to_functions_message
from shared.config.settings import Settings
from shared.ports.bus import Bus, BusError, BusMessage, MessageReceiver

log = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[None]]
RENEW_EVERY = 15.0  # seconds; session locks last 60 s on the queues Bicep declares
SHARE_AFTER = 0.25  # seconds a slot holds a session while every slot is busy
IDLE_RECEIVES = 5  # empty receives of RECEIVE_WAIT before an idle session is let go
RECEIVE_WAIT = 0.2
CONTENDED_WAIT = 0.02


@dataclass(frozen=True, slots=True)
class QueueTrigger:
    name: str
    queue: str
    sessions: bool
    handler: Handler


@dataclass(frozen=True, slots=True)
class TimerTrigger:
    name: str
    every_seconds: float
    handler: Handler


def _setting(value: str, settings: Settings) -> str:
    """Resolve a binding's `%NAME%` app-setting reference like the host does."""
    if value.startswith("%") and value.endswith("%"):
        return str(getattr(settings, value.strip("%")))
    return value


def _every_seconds(schedule: str) -> float:
    """The period of an NCRONTAB `*/N * * * * *` schedule (the only form used here)."""
    seconds = schedule.split()[0]
    return float(seconds[2:]) if seconds.startswith("*/") else 60.0


def triggers_of(app: FunctionRegister, settings: Settings) -> list[QueueTrigger | TimerTrigger]:
    """The trigger functions registered on `app`, read from their bindings."""
    found: list[QueueTrigger | TimerTrigger] = []
    for function in app.get_functions():
        handler = function.get_user_function()
        for binding in function.get_bindings():
            data: dict[str, Any] = binding.get_dict_repr()
            if data["type"] == "serviceBusTrigger":
                found.append(
                    QueueTrigger(
                        str(function.get_function_name()),
                        _setting(str(data["queueName"]), settings),
                        bool(data.get("isSessionsEnabled")),
                        handler,
                    )
                )
            elif data["type"] == "timerTrigger":
                found.append(
                    TimerTrigger(
                        str(function.get_function_name()),
                        _every_seconds(data["schedule"]),
                        handler,
                    )
                )
    return found


class TriggerDispatcher:
    """Runs every trigger of a Function App against a bus until stopped."""

    def __init__(
        self,
        app: FunctionRegister,
        bus: Bus,
        settings: Settings,
        *,
        session_slots: int = 16,
        batch: int = 64,
    ) -> None:
        self._triggers = triggers_of(app, settings)
        self._bus = bus
        self._slots = session_slots
        self._batch = batch
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._held: dict[str, int] = {}  # sessions held now, per queue

    @property
    def trigger_names(self) -> list[str]:
        return [t.name for t in self._triggers]

    async def start(self) -> None:
        for trigger in self._triggers:
            if isinstance(trigger, TimerTrigger):
                self._tasks.append(asyncio.create_task(self._timer(trigger)))
            elif trigger.sessions:
                for _ in range(self._slots):
                    self._tasks.append(asyncio.create_task(self._sessions(trigger)))
            else:
                self._tasks.append(asyncio.create_task(self._plain(trigger)))

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _deliver(
        self, trigger: QueueTrigger, receiver: MessageReceiver, messages: list[BusMessage]
    ) -> bool:
        """Call the function for each message in order; False when one failed (the rest
        of the batch is abandoned too, keeping a session's order)."""
        for i, message in enumerate(messages):
            try:
                await trigger.handler(to_functions_message(message))
            except Exception:
                log.exception("%s failed on message %s", trigger.name, message.message_id)
                for left in messages[i:]:
                    with contextlib.suppress(BusError):
                        await receiver.abandon(left)
                return False
            await receiver.complete(message)
        return True

    async def _sessions(self, trigger: QueueTrigger) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                receiver = await self._bus.accept_session(trigger.queue, None, max_wait=1.0)
            except BusError:
                log.exception("accepting a session on %s failed", trigger.queue)
                await asyncio.sleep(1.0)
                continue
            if receiver is None:
                continue
            queue = trigger.queue
            self._held[queue] = self._held.get(queue, 0) + 1
            try:
                idle = 0
                held_since = renewed = loop.time()
                while not self._stopping.is_set() and idle < IDLE_RECEIVES:
                    if loop.time() - renewed > RENEW_EVERY:
                        await receiver.renew_lock()  # the host's session lock renewal
                        renewed = loop.time()
                    contended = self._held[queue] >= self._slots
                    wait = CONTENDED_WAIT if contended else RECEIVE_WAIT
                    messages = await receiver.receive(self._batch, max_wait=wait)
                    if not messages:
                        if contended:
                            break  # others may be waiting for the slot
                        idle += 1
                        continue
                    idle = 0
                    if not await self._deliver(trigger, receiver, messages):
                        break  # release the session; it comes back in order
                    if contended and loop.time() - held_since >= SHARE_AFTER:
                        break  # its turn is over; it comes back behind the others
            except BusError:
                log.warning("lost session on %s", queue, exc_info=True)
            finally:
                self._held[queue] -= 1
                with contextlib.suppress(BusError):
                    await receiver.close()

    async def _plain(self, trigger: QueueTrigger) -> None:
        while not self._stopping.is_set():
            try:
                receiver = await self._bus.queue_receiver(trigger.queue)
            except BusError:
                log.exception("opening %s failed", trigger.queue)
                await asyncio.sleep(1.0)
                continue
            try:
                while not self._stopping.is_set():
                    messages = await receiver.receive(self._batch, max_wait=1.0)
                    if messages:
                        await self._deliver(trigger, receiver, messages)
            except BusError:
                log.warning("receiving from %s failed; reopening", trigger.queue, exc_info=True)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(BusError):
                    await receiver.close()

    async def _timer(self, trigger: TimerTrigger) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(trigger.every_seconds)
            try:
                await trigger.handler(None)
            except Exception:
                log.exception("timer %s failed", trigger.name)
