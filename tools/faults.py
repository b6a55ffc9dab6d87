"""Deterministic crash injection for the matcher: a seeded plan decides, call by call,
whether the process "dies" before or after an I/O step of the journal, the bus or the
snapshot store. Used by the recovery tests and by `python -m tools.simulate`."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared.adapters.bus_memory import InMemoryBus
from shared.ports.snapshots import SnapshotStore


class Crash(BaseException):
    """The process dies here: nothing in the worker may catch it."""


@dataclass
class CrashPlan:
    """Decides, call by call, whether the process dies before or after an I/O step."""

    seed: int
    rate: float
    points: frozenset[str] | None = None  # None: every point
    rng: random.Random = field(init=False)
    crashes: list[str] = field(default_factory=list)
    armed: bool = True

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def maybe(self, point: str) -> None:
        if not self.armed or (self.points is not None and point not in self.points):
            return
        if self.rng.random() < self.rate:
            self.crashes.append(point)
            raise Crash(point)

    async def around(self, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        self.maybe(f"{name}:before")
        result = await call()
        self.maybe(f"{name}:after")
        return result


class CrashingJournal:
    def __init__(self, inner: Any, plan: CrashPlan) -> None:
        self._inner, self._plan = inner, plan

    async def append(self, entries: Any) -> Any:
        return await self._plan.around("journal.append", lambda: self._inner.append(entries))

    def read_from(self, symbol: str, seq: int) -> Any:
        self._plan.maybe("journal.read_from:before")
        return self._inner.read_from(symbol, seq)

    async def entries_at(self, symbol: str, seqs: Any) -> Any:
        return await self._inner.entries_at(symbol, seqs)

    async def find_by_command(self, symbol: str, command_id: str) -> Any:
        self._plan.maybe("journal.find_by_command:before")
        return await self._inner.find_by_command(symbol, command_id)

    async def last_seq(self, symbol: str) -> int:
        return int(await self._inner.last_seq(symbol))

    async def mark_published(self, symbol: str, seq: int) -> None:
        await self._plan.around(
            "journal.mark_published", lambda: self._inner.mark_published(symbol, seq)
        )

    async def published_seq(self, symbol: str) -> int:
        self._plan.maybe("journal.published_seq:before")
        return int(await self._inner.published_seq(symbol))

    async def mark_projected(self, symbol: str, seq: int) -> None:
        await self._inner.mark_projected(symbol, seq)

    async def projected_seq(self, symbol: str) -> int:
        return int(await self._inner.projected_seq(symbol))


class CrashingReceiver:
    def __init__(self, inner: Any, plan: CrashPlan) -> None:
        self._inner, self._plan = inner, plan

    @property
    def session_id(self) -> str:
        return str(self._inner.session_id)

    async def receive(self, max_count: int = 1, max_wait: float = 0.0) -> Any:
        return await self._plan.around(
            "receiver.receive", lambda: self._inner.receive(max_count, max_wait)
        )

    async def complete(self, message: Any) -> None:
        await self._plan.around("receiver.complete", lambda: self._inner.complete(message))

    async def abandon(self, message: Any) -> None:
        await self._inner.abandon(message)

    async def dead_letter(self, message: Any, reason: str, description: str = "") -> None:
        await self._plan.around(
            "receiver.dead_letter", lambda: self._inner.dead_letter(message, reason, description)
        )

    async def get_state(self) -> Any:
        return await self._inner.get_state()

    async def set_state(self, state: Any) -> None:
        await self._inner.set_state(state)

    async def renew_lock(self) -> None:
        await self._plan.around("receiver.renew_lock", self._inner.renew_lock)

    async def close(self) -> None:
        await self._inner.close()


class CrashingBus:
    """Crashes around sends; hands out crashing receivers."""

    def __init__(self, inner: InMemoryBus, plan: CrashPlan) -> None:
        self.inner, self._plan = inner, plan

    async def send(self, queue: str, messages: Any) -> None:
        await self._plan.around(f"bus.send.{queue}", lambda: self.inner.send(queue, messages))

    async def accept_session(self, queue: str, session_id: str | None = None, **kw: Any) -> Any:
        receiver = await self.inner.accept_session(queue, session_id, **kw)
        return None if receiver is None else CrashingReceiver(receiver, self._plan)

    async def queue_receiver(self, queue: str) -> Any:
        return await self.inner.queue_receiver(queue)

    async def dead_letters(self, queue: str, max_count: int = 100) -> Any:
        return await self.inner.dead_letters(queue, max_count)

    async def close(self) -> None:
        await self.inner.close()


class CrashingSnapshots:
    def __init__(self, inner: SnapshotStore, plan: CrashPlan) -> None:
        self._inner, self._plan = inner, plan

    async def save(self, symbol: str, seq: int, data: bytes) -> None:
        await self._plan.around("snapshots.save", lambda: self._inner.save(symbol, seq, data))

    async def latest(self, symbol: str) -> Any:
        self._plan.maybe("snapshots.latest:before")
        return await self._inner.latest(symbol)

    async def prune(self, symbol: str, keep: int) -> int:
        return int(
            await self._plan.around("snapshots.prune", lambda: self._inner.prune(symbol, keep))
        )

    async def close(self) -> None:
        await self._inner.close()
