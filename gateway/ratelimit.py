"""A token bucket per venue (the venue's `rate_per_second` and `burst`), with back-off.

`take()` waits for a token; `back_off()` is called when the venue answers "too fast": no
token is handed out until the pause ends, and consecutive back-offs double the pause (up to
`max_pause`); `relax()` after an accepted request resets the doubling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class TokenBucket:
    """At most `burst` requests at once, refilled at `rate` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        first_pause: float = 0.5,
        max_pause: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._updated = clock()
        self._paused_until = 0.0
        self._first_pause = first_pause
        self._max_pause = max_pause
        self._next_pause = first_pause
        self._lock = asyncio.Lock()
        self.back_offs = 0

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def wait_time(self) -> float:
        """Seconds until a token is free (0: one is free now)."""
        now = self._clock()
        self._refill(now)
        pause = max(0.0, self._paused_until - now)
        short = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
        return max(pause, short)

    async def take(self) -> None:
        """Wait for a token and take it (callers are served in arrival order)."""
        async with self._lock:
            while (wait := self.wait_time()) > 0:
                await asyncio.sleep(wait)
            self._tokens -= 1

    def back_off(self) -> float:
        """The venue said "too fast": pause, doubling on consecutive calls. Returns the
        pause in seconds."""
        pause = self._next_pause
        self._paused_until = max(self._paused_until, self._clock() + pause)
        self._next_pause = min(self._max_pause, pause * 2)
        self._tokens = 0.0
        self.back_offs += 1
        return pause

    def relax(self) -> None:
        """An answer that was not "too fast": the next back-off starts small again."""
        self._next_pause = self._first_pause
