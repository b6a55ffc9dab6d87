"""The cache contract, on the in-process cache and on a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.adapters.cache_memory import MemoryCache
from shared.adapters.cache_redis import RedisCache
from shared.ports.cache import Cache
from tests.support.redis_server import redis_server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    try:
        with redis_server() as url:
            yield url
    except FileNotFoundError:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        adapter: Cache = MemoryCache()
    else:
        adapter = RedisCache.from_url(request.getfixturevalue("redis_url"))
        await adapter._redis.flushdb()
    yield adapter
    await adapter.close()


async def test_values_expire(cache: Cache):
    await cache.set("k", b"v", ttl_seconds=0.05)
    assert await cache.get("k") == b"v"
    await asyncio.sleep(0.1)
    assert await cache.get("k") is None
    await cache.set("k", b"w")
    await cache.delete("k")
    assert await cache.get("k") is None


async def test_an_older_version_never_replaces_a_newer_one(cache: Cache):
    assert await cache.set_versioned("order:a:1", 2, b"v2")
    assert not await cache.set_versioned("order:a:1", 1, b"v1")
    assert not await cache.set_versioned("order:a:1", 2, b"v2 again")
    assert await cache.get_versioned("order:a:1") == (2, b"v2")
    assert await cache.set_versioned("order:a:1", 3, b"v3")
    assert await cache.get_versioned("order:a:1") == (3, b"v3")
    assert await cache.get_versioned("order:a:2") is None


async def test_counters_count_from_zero(cache: Cache):
    assert await cache.incr("daily:a:20240101", 1, 60) == 1
    assert await cache.incr("daily:a:20240101", 2, 60) == 3
    assert await cache.get("daily:a:20240101") == b"3"


async def test_token_bucket_allows_the_burst_then_the_rate(cache: Cache):
    now = 1_700_000_000_000_000_000
    taken = [await cache.take_token("rate:a", 2.0, 3, now) for _ in range(4)]
    assert taken == [True, True, True, False]
    assert not await cache.take_token("rate:a", 2.0, 3, now, take=0)  # peek: empty
    assert await cache.take_token("rate:a", 2.0, 3, now + 500_000_000)  # half a second: 1 token
    assert not await cache.take_token("rate:a", 2.0, 3, now + 500_000_000)
    assert await cache.take_token("rate:b", 2.0, 3, now)  # buckets are per key
