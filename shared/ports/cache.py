"""The cache port: a shared, lossy key-value cache (Redis in Azure, in-process locally).

Nothing here is the source of truth: every value can be rebuilt from the store or the
matcher. Keys (one place, so every writer and reader agrees):

- `order:{account_id}:{order_id}`: the order document (store codec JSON), versioned.
- `book:{symbol}`: the latest L2 book the matcher published (see `book_key`).
- `mark:{symbol}`: the instrument's mark prices the matcher published (see `mark_key`).
- `rate:{account_id}`: the account's order-rate token bucket.
- `daily:{account_id}:{yyyymmdd}`: orders the account placed that UTC day.
- `idem:{account_id}:{key}`: the response to an Idempotency-Key (fast path of the store).
"""

from __future__ import annotations

from typing import Protocol


def order_key(account_id: str, order_id: str) -> str:
    return f"order:{account_id}:{order_id}"


def book_key(symbol: str) -> str:
    """The matcher writes each instrument's latest L2 book here, as JSON bytes:

    `{"symbol": "ABC", "seq": 42, "ts": <ns>, "bids": [[price_ticks, qty_lots, orders], ...],
    "asks": [[price_ticks, qty_lots, orders], ...]}`, best level first on each side, as many
    levels as it keeps (the API serves up to the depth asked for). `seq` is the instrument
    sequence of the last event the book reflects; integers only (ticks and lots).
    """
    return f"book:{symbol}"


def mark_key(symbol: str) -> str:
    """The matcher writes each instrument's mark prices here, as JSON bytes:

    `{"symbol": "ABC", "seq": 42, "ts": <ns>, "day": <UTC day of ts, days since the epoch>,
    "last_px": <last trade on the internal venue, ticks; 0: none>, "paper_px": <the paper
    market's reference price, ticks; 0: no paper market>, "start_last_px": ...,
    "start_paper_px": ...}`: the `start_` prices are the marks as the UTC day `day` began
    (the last ones published before it; the day's first when none was), for P&L today.
    """
    return f"mark:{symbol}"


def rate_key(account_id: str) -> str:
    return f"rate:{account_id}"


def daily_key(account_id: str, day: str) -> str:
    return f"daily:{account_id}:{day}"


def idempotency_key(account_id: str, key: str) -> str:
    return f"idem:{account_id}:{key}"


class Cache(Protocol):
    """Byte values under string keys, with the few atomic operations the API needs."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        """Store the value (replacing any), expiring after `ttl_seconds` if given."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the key (no error if absent)."""
        ...

    async def get_versioned(self, key: str) -> tuple[int, bytes] | None:
        """The (version, value) stored by `set_versioned`, or None."""
        ...

    async def set_versioned(
        self, key: str, version: int, value: bytes, ttl_seconds: float | None = None
    ) -> bool:
        """Store the value unless a version at least as new is stored; True if stored.

        Readers filling the cache after a miss and writers after an update both use it, so
        a slow writer or reader never puts an older document over a newer one."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        """Add `amount` to the integer at `key` (0 if absent) and return the new value; the
        expiry is set when the key is created."""
        ...

    async def take_token(
        self, key: str, rate_per_second: float, burst: int, now_ns: int, take: int = 1
    ) -> bool:
        """Token bucket: refill at `rate_per_second` up to `burst`, then take `take` tokens
        if that many are there (True) or take none (False). `take=0` only peeks
        (True if one token is there) and changes nothing."""
        ...

    async def ping(self) -> None:
        """Return if the cache answers; raise otherwise (readiness)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
