"""Deterministic fault injection and a hand-driven clock for the in-memory bus.

A `BusFaults` draws every decision from one `random.Random(seed)`, so a run with the same
seed and the same sequence of bus calls injects the same faults; `injected` records them so a
failing run can be reported and replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FaultRates:
    """Probabilities of each fault, per decision point.

    expire_lock: per receive that delivered messages; the lock expires right after delivery,
        so settling fails and the messages go to the next receiver.
    redeliver: per complete; the settlement is lost (MessageLockLostError) and the message
        is delivered again.
    duplicate_send: per message sent; it is enqueued twice, bypassing duplicate detection
        (what a consumer sees when a sender resends outside the window).
    delay: per message sent; it becomes visible only after up to `max_delay` seconds of
        bus clock. On a session queue it holds back the messages behind it (FIFO stays).
    """

    expire_lock: float = 0.0
    redeliver: float = 0.0
    duplicate_send: float = 0.0
    delay: float = 0.0
    max_delay: float = 1.0


class BusFaults:
    """Seeded fault decisions, consulted by the in-memory bus at its decision points."""

    def __init__(self, seed: int, rates: FaultRates) -> None:
        self.seed = seed
        self.rates = rates
        self.injected: list[tuple[str, str]] = []
        self._rng = random.Random(seed)

    def _draw(self, rate: float, fault: str, subject: str) -> bool:
        if rate <= 0.0 or self._rng.random() >= rate:
            return False
        self.injected.append((fault, subject))
        return True

    def expire_lock(self, subject: str) -> bool:
        """Whether the lock just taken on `subject` (a session or message id) expires now."""
        return self._draw(self.rates.expire_lock, "expire_lock", subject)

    def redeliver(self, message_id: str) -> bool:
        """Whether completing this message is lost, so the message comes again."""
        return self._draw(self.rates.redeliver, "redeliver", message_id)

    def duplicate_send(self, message_id: str) -> bool:
        """Whether this message is enqueued twice."""
        return self._draw(self.rates.duplicate_send, "duplicate_send", message_id)

    def delay(self, message_id: str) -> float:
        """Seconds of bus clock before this message becomes visible (0.0: no delay)."""
        if not self._draw(self.rates.delay, "delay", message_id):
            return 0.0
        return self._rng.uniform(0.0, self.rates.max_delay)


class ManualClock:
    """A monotonic clock that moves only when told to: lock expiry and the duplicate
    window can be tested without sleeping."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self.now += seconds
