"""The in-process cache: the embedded default. One event loop, so no operation interleaves."""

from __future__ import annotations

import time
from collections.abc import Callable

_Entry = tuple[bytes, float | None]  # value, monotonic expiry


class MemoryCache:
    """A dict with expiries; `max_entries` bounds it (the oldest insertion is evicted)."""

    def __init__(
        self, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._data: dict[str, _Entry] = {}
        self._versions: dict[str, int] = {}
        self._buckets: dict[str, tuple[float, int]] = {}  # tokens, last refill (ns)
        self._max = max_entries
        self._clock = clock

    def _expiry(self, ttl_seconds: float | None) -> float | None:
        return None if ttl_seconds is None else self._clock() + ttl_seconds

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and self._clock() >= expires:
            del self._data[key]
            self._versions.pop(key, None)
            return None
        return value

    def _put(self, key: str, value: bytes, ttl_seconds: float | None) -> None:
        self._data.pop(key, None)
        if len(self._data) >= self._max:
            oldest = next(iter(self._data))
            del self._data[oldest]
            self._versions.pop(oldest, None)
        self._data[key] = (bytes(value), self._expiry(ttl_seconds))

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        self._put(key, value, ttl_seconds)
        self._versions.pop(key, None)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)
        self._versions.pop(key, None)

    async def get_versioned(self, key: str) -> tuple[int, bytes] | None:
        value = self._live(key)
        if value is None or key not in self._versions:
            return None
        return self._versions[key], value

    async def set_versioned(
        self, key: str, version: int, value: bytes, ttl_seconds: float | None = None
    ) -> bool:
        if self._live(key) is not None and self._versions.get(key, -1) >= version:
            return False
        self._put(key, value, ttl_seconds)
        self._versions[key] = version
        return True

    async def incr(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        current = self._live(key)
        value = (int(current) if current is not None else 0) + amount
        if current is None:
            self._put(key, str(value).encode(), ttl_seconds)
        else:
            self._data[key] = (str(value).encode(), self._data[key][1])
        return value

    async def take_token(
        self, key: str, rate_per_second: float, burst: int, now_ns: int, take: int = 1
    ) -> bool:
        tokens, last = self._buckets.get(key, (float(burst), now_ns))
        elapsed = max(0, now_ns - last) / 1e9
        tokens = min(float(burst), tokens + elapsed * rate_per_second)
        allowed = tokens >= max(take, 1)  # take=0 peeks: is one token there?
        if allowed:
            tokens -= take
        if take:
            self._buckets[key] = (tokens, max(now_ns, last))
        return allowed

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()
        self._versions.clear()
        self._buckets.clear()
