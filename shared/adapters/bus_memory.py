"""The in-memory bus: Service Bus semantics in one process, for the local run and the tests.

Same behaviour as the Azure adapter: FIFO within a session; one receiver per session, whose
lock expires unless renewed, after which the session and every uncompleted message go to the
next receiver; peek-lock with a delivery count and a dead-letter queue past the max delivery
count; duplicate detection on message id within a window; session state; plain queues.

All state lives on one event loop and every operation runs without awaiting in between, so
no lock is needed. Lock expiry and the duplicate window follow the injected `clock`;
`max_wait` arguments are real seconds on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from shared.adapters.bus_faults import BusFaults
from shared.observability import metrics
from shared.ports.bus import (
    DEAD_LETTER_MAX_DELIVERY,
    BusMessage,
    DeadLetter,
    MessageLockLostError,
    QueueNotFoundError,
    SessionLockLostError,
)

Clock = Callable[[], float]
_NEVER = float("-inf")


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """A queue's settings, as Bicep sets them on the Service Bus queue."""

    requires_session: bool = False
    lock_duration: float = 60.0
    max_delivery_count: int = 10
    duplicate_detection_window: float | None = 600.0  # None: no duplicate detection


class _Entry:
    """A message on the queue, with its delivery bookkeeping."""

    __slots__ = ("delivery_count", "holder", "locked_until", "message", "seq", "visible_at")

    def __init__(self, message: BusMessage, seq: int, visible_at: float) -> None:
        self.message = message
        self.seq = seq
        self.visible_at = visible_at
        self.delivery_count = 0
        self.locked_until = _NEVER  # plain queues only: the message lock
        self.holder: object | None = None

    def delivered(self) -> BusMessage:
        m = self.message
        return BusMessage(
            m.body, m.message_id, m.session_id, m.application_properties,
            self.delivery_count, self.seq,
        )  # fmt: skip


class _Session:
    __slots__ = ("holder", "id", "inflight", "locked_until", "pending", "renew_until", "state")

    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.pending: deque[_Entry] = deque()
        self.inflight: dict[int, _Entry] = {}
        self.state: bytes | None = None
        self.holder: object | None = None
        self.locked_until = _NEVER
        self.renew_until = _NEVER  # automatic renewal (AutoLockRenewer) keeps the lock until

    def lock_valid(self, now: float) -> bool:
        return now < self.locked_until or now < self.renew_until

    def ready(self, now: float) -> bool:
        return bool(self.pending) and self.pending[0].visible_at <= now


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Queue:
    def __init__(self, name: str, options: QueueOptions) -> None:
        self.name = name
        self.options = options
        self.next_seq = 1
        self.recent_ids: dict[str, float] = {}  # duplicate detection: message id -> sent at
        # The same ids in the order they were sent, and when: two flat deques of strings and
        # floats, which the garbage collector never walks. (A container per send, kept for
        # the whole window, made every full collection walk one per message sent.)
        self.sent_ids: deque[str] = deque()
        self.sent_at: deque[float] = deque()
        self.dead: list[DeadLetter] = []
        self.sessions: dict[str, _Session] = {}
        self.pending: deque[_Entry] = deque()  # plain queues
        self.inflight: dict[int, _Entry] = {}  # plain queues
        self.earliest_lock = float("inf")
        self.waiters: list[asyncio.Future[None]] = []

    def forget_ids_before(self, now: float) -> dict[str, float] | None:
        """Drop ids older than the duplicate window; the ids still remembered, or None when
        the queue has no duplicate detection."""
        window = self.options.duplicate_detection_window
        if window is None:
            return None
        recent, sent_ids, sent_at = self.recent_ids, self.sent_ids, self.sent_at
        while sent_at and now - sent_at[0] >= window:
            at, message_id = sent_at.popleft(), sent_ids.popleft()
            if recent.get(message_id) == at:
                del recent[message_id]
        return recent

    def notify(self) -> None:
        """Wake every receiver and acceptor waiting on this queue (they look again)."""
        if self.waiters:
            for waiter in self.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self.waiters.clear()

    async def wait(self, timeout: float) -> None:
        """Wait for the next notify, or `timeout` seconds (no Task per wait: it is hot)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.waiters.append(waiter)
        timer = loop.call_later(timeout, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            with contextlib.suppress(ValueError):
                self.waiters.remove(waiter)  # still listed when the timeout woke it

    def dead_letter(self, entry: _Entry, reason: str, description: str) -> None:
        self.dead.append(DeadLetter(entry.delivered(), reason, description))
        metrics.dead_lettered(self.name, reason)

    def give_back(self, entries: list[_Entry], front: deque[_Entry]) -> None:
        """Return unsettled entries for redelivery (oldest first), dead-lettering those
        that used up their deliveries."""
        limit = self.options.max_delivery_count
        back = []
        for entry in sorted(entries, key=lambda e: e.seq):
            entry.holder = None
            if entry.delivery_count >= limit:
                self.dead_letter(
                    entry,
                    DEAD_LETTER_MAX_DELIVERY,
                    f"Message could not be consumed after {limit} delivery attempts.",
                )
            else:
                back.append(entry)
        # Keep sequence order: an entry given back before (a lost settlement) may already
        # sit at the front with a lower sequence number than these.
        ahead = []
        while back and front and front[0].seq < back[-1].seq:
            ahead.append(front.popleft())
        if ahead:
            back = sorted([*back, *ahead], key=lambda e: e.seq)
        front.extendleft(reversed(back))
        self.notify()


_POLL = 0.05  # seconds: how often a waiter looks again for locks that lapsed meanwhile


async def _deadline_wait(queue: _Queue, deadline: float) -> bool:
    """Wait for a change on the queue until the (event loop) deadline; False once past it."""
    remaining = deadline - asyncio.get_running_loop().time()
    if remaining <= 0:
        return False
    await queue.wait(min(remaining, _POLL))
    return True


class InMemoryBus:
    """The in-memory implementation of the `Bus` port."""

    def __init__(
        self,
        queues: Mapping[str, QueueOptions],
        *,
        clock: Clock = time.monotonic,
        faults: BusFaults | None = None,
    ) -> None:
        self._queues = {name: _Queue(name, options) for name, options in queues.items()}
        self._clock = clock
        self._faults = faults

    def _queue(self, name: str, *, sessions: bool | None = None) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            raise QueueNotFoundError(f"no queue named {name!r}")
        if sessions is not None and queue.options.requires_session != sessions:
            kind = "a session queue" if queue.options.requires_session else "a plain queue"
            raise QueueNotFoundError(f"queue {name!r} is {kind}")
        return queue

    async def send(self, queue: str, messages: Sequence[BusMessage]) -> None:
        q = self._queue(queue)
        sessions = q.options.requires_session
        for message in messages:
            if sessions and not message.session_id:
                raise ValueError(f"queue {queue!r} needs a session_id on every message")
            if not message.message_id:
                raise ValueError("every message needs a message_id")
        now = self._clock()
        recent = q.forget_ids_before(now)
        faults = self._faults
        target = q.pending
        target_session: str | None = None
        for message in messages:
            message_id = message.message_id
            if recent is not None:
                if message_id in recent:
                    continue  # a duplicate inside the window: dropped, as Service Bus does
                recent[message_id] = now
                q.sent_ids.append(message_id)
                q.sent_at.append(now)
            copies = 1
            visible_at = _NEVER
            if faults is not None:
                copies += faults.duplicate_send(message_id)
                delay = faults.delay(message_id)
                if delay > 0.0:
                    visible_at = now + delay
            if sessions and message.session_id != target_session:
                target_session = message.session_id
                assert target_session is not None
                session = q.sessions.get(target_session)
                if session is None:
                    session = q.sessions[target_session] = _Session(target_session)
                target = session.pending
            for _ in range(copies):
                target.append(_Entry(message, q.next_seq, visible_at))
                q.next_seq += 1
        q.notify()

    async def accept_session(
        self,
        queue: str,
        session_id: str | None = None,
        *,
        max_wait: float = 0.0,
        auto_renew_for: float | None = None,
    ) -> InMemorySessionReceiver | None:
        q = self._queue(queue, sessions=True)
        deadline = asyncio.get_running_loop().time() + max_wait
        while True:
            session = self._lockable_session(q, session_id)
            if session is not None:
                receiver = InMemorySessionReceiver(self, q, session)
                now = self._clock()
                session.holder = receiver
                session.locked_until = now + q.options.lock_duration
                session.renew_until = _NEVER if auto_renew_for is None else now + auto_renew_for
                return receiver
            if not await _deadline_wait(q, deadline):
                return None

    def _lockable_session(self, q: _Queue, session_id: str | None) -> _Session | None:
        now = self._clock()
        if session_id is not None:
            session = q.sessions.get(session_id)
            if session is not None:
                if session.holder is not None and session.lock_valid(now):
                    return None
                self._release(q, session)
            session = q.sessions.get(session_id)  # releasing drops an idle, stateless session
            if session is None:
                session = q.sessions[session_id] = _Session(session_id)
            return session
        for session in list(q.sessions.values()):
            if session.holder is not None:
                if session.lock_valid(now):
                    continue
                self._release(q, session)
            if session.ready(now):
                return session
        return None

    def _release(self, q: _Queue, session: _Session) -> None:
        """Drop the session's lock; its unsettled messages go back to the front."""
        if session.holder is None:
            return
        session.holder = None
        session.locked_until = session.renew_until = _NEVER
        inflight = list(session.inflight.values())
        session.inflight.clear()
        q.give_back(inflight, session.pending)
        # Round robin: a released session goes behind the others for the next acceptor.
        del q.sessions[session.id]
        if session.pending or session.state is not None:
            q.sessions[session.id] = session

    async def queue_receiver(self, queue: str) -> InMemoryQueueReceiver:
        return InMemoryQueueReceiver(self, self._queue(queue, sessions=False))

    async def dead_letters(self, queue: str, max_count: int = 100) -> list[DeadLetter]:
        return self._queue(queue).dead[:max_count]

    async def close(self) -> None:
        for q in self._queues.values():
            for session in list(q.sessions.values()):
                self._release(q, session)
            self._reclaim_message_locks(q, force=True)

    # Hooks for tests and fault injection: each forces what a lost lock does on Azure.

    def active_message_count(self, queue: str) -> int:
        """Messages waiting or locked on `queue` (Service Bus's activeMessageCount):
        0 means every message was settled."""
        q = self._queue(queue)
        count = len(q.pending) + len(q.inflight)
        for session in q.sessions.values():
            count += len(session.pending) + len(session.inflight)
        return count

    def expire_session_lock(self, queue: str, session_id: str) -> None:
        """Let the session's lock lapse now (as if its holder stopped renewing)."""
        session = self._queue(queue, sessions=True).sessions.get(session_id)
        if session is not None:
            session.locked_until = session.renew_until = _NEVER

    def expire_message_locks(self, queue: str) -> None:
        """Let every message lock of a plain queue lapse now."""
        q = self._queue(queue, sessions=False)
        for entry in q.inflight.values():
            entry.locked_until = _NEVER
        q.earliest_lock = _NEVER

    def _reclaim_message_locks(self, q: _Queue, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now < q.earliest_lock:
            return
        expired = [e for e in q.inflight.values() if force or e.locked_until <= now]
        for entry in expired:
            del q.inflight[entry.seq]
        q.earliest_lock = min((e.locked_until for e in q.inflight.values()), default=float("inf"))
        if expired:
            q.give_back(expired, q.pending)

    # Delivery and settlement, called by the receivers.

    def _deliver_session(
        self, receiver: InMemorySessionReceiver, session: _Session, max_count: int
    ) -> list[BusMessage]:
        now = self._clock()
        pending, inflight = session.pending, session.inflight
        out: list[BusMessage] = []
        while pending and len(out) < max_count and pending[0].visible_at <= now:
            entry = pending.popleft()
            entry.delivery_count += 1
            entry.holder = receiver
            inflight[entry.seq] = entry
            out.append(entry.delivered())
        if out and self._faults is not None and self._faults.expire_lock(session.id):
            session.locked_until = session.renew_until = _NEVER
        return out

    def _deliver_plain(self, receiver: InMemoryQueueReceiver, max_count: int) -> list[BusMessage]:
        q = receiver._q
        self._reclaim_message_locks(q)
        now = self._clock()
        locked_until = now + q.options.lock_duration
        out: list[BusMessage] = []
        skipped: list[_Entry] = []
        while q.pending and len(out) < max_count:
            entry = q.pending.popleft()
            if entry.visible_at > now:
                skipped.append(entry)
                continue
            entry.delivery_count += 1
            entry.holder = receiver
            entry.locked_until = locked_until
            if self._faults is not None and self._faults.expire_lock(entry.message.message_id):
                entry.locked_until = _NEVER
            q.inflight[entry.seq] = entry
            q.earliest_lock = min(q.earliest_lock, entry.locked_until)
            out.append(entry.delivered())
        q.pending.extendleft(reversed(skipped))
        return out

    def _settle_lost(self, message: BusMessage) -> bool:
        """The redeliver fault: True when this settlement is to be lost."""
        return self._faults is not None and self._faults.redeliver(message.message_id)


class InMemorySessionReceiver:
    """Holds one session's lock; see the `SessionReceiver` port."""

    def __init__(self, bus: InMemoryBus, q: _Queue, session: _Session) -> None:
        self._bus = bus
        self._q = q
        self._session = session
        self._closed = False

    @property
    def session_id(self) -> str:
        return self._session.id

    def _check_lock(self) -> _Session:
        session = self._session
        if self._closed or session.holder is not self:
            raise SessionLockLostError(f"session {session.id!r} is no longer held")
        if not session.lock_valid(self._bus._clock()):
            self._bus._release(self._q, session)
            raise SessionLockLostError(f"the lock on session {session.id!r} expired")
        return session

    def _take(self, message: BusMessage) -> _Entry:
        session = self._check_lock()
        entry = session.inflight.get(message.sequence_number)
        if entry is None or entry.delivery_count != message.delivery_count:
            raise MessageLockLostError(f"message {message.message_id!r} is already settled")
        del session.inflight[entry.seq]
        return entry

    async def receive(self, max_count: int = 1, max_wait: float = 0.0) -> list[BusMessage]:
        deadline = asyncio.get_running_loop().time() + max_wait
        while True:
            out = self._bus._deliver_session(self, self._check_lock(), max_count)
            if out or not await _deadline_wait(self._q, deadline):
                return out

    async def complete(self, message: BusMessage) -> None:
        entry = self._take(message)
        if self._bus._settle_lost(message):
            self._q.give_back([entry], self._session.pending)
            raise MessageLockLostError(f"completing {message.message_id!r} was lost")

    async def abandon(self, message: BusMessage) -> None:
        self._q.give_back([self._take(message)], self._session.pending)

    async def dead_letter(self, message: BusMessage, reason: str, description: str = "") -> None:
        self._q.dead_letter(self._take(message), reason, description)

    async def get_state(self) -> bytes | None:
        return self._check_lock().state

    async def set_state(self, state: bytes | None) -> None:
        self._check_lock().state = state

    async def renew_lock(self) -> None:
        session = self._check_lock()
        session.locked_until = self._bus._clock() + self._q.options.lock_duration

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._session.holder is self:
                self._bus._release(self._q, self._session)


class InMemoryQueueReceiver:
    """A competing consumer on a plain queue; see the `QueueReceiver` port."""

    def __init__(self, bus: InMemoryBus, q: _Queue) -> None:
        self._bus = bus
        self._q = q
        self._closed = False

    def _take(self, message: BusMessage) -> _Entry:
        q = self._q
        self._bus._reclaim_message_locks(q)
        entry = q.inflight.get(message.sequence_number)
        if (
            self._closed
            or entry is None
            or entry.holder is not self
            or entry.delivery_count != message.delivery_count
        ):
            raise MessageLockLostError(f"the lock on {message.message_id!r} is lost or settled")
        del q.inflight[entry.seq]
        return entry

    async def receive(self, max_count: int = 1, max_wait: float = 0.0) -> list[BusMessage]:
        if self._closed:
            raise MessageLockLostError("the receiver is closed")
        deadline = asyncio.get_running_loop().time() + max_wait
        while True:
            out = self._bus._deliver_plain(self, max_count)
            if out or not await _deadline_wait(self._q, deadline):
                return out

    async def complete(self, message: BusMessage) -> None:
        entry = self._take(message)
        if self._bus._settle_lost(message):
            self._q.give_back([entry], self._q.pending)
            raise MessageLockLostError(f"completing {message.message_id!r} was lost")

    async def abandon(self, message: BusMessage) -> None:
        self._q.give_back([self._take(message)], self._q.pending)

    async def dead_letter(self, message: BusMessage, reason: str, description: str = "") -> None:
        self._q.dead_letter(self._take(message), reason, description)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        mine = [e for e in self._q.inflight.values() if e.holder is self]
        for entry in mine:
            del self._q.inflight[entry.seq]
        self._q.give_back(mine, self._q.pending)
