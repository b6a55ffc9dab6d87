"""Retry of requests Cosmos DB throttles (16500), without a server."""

from __future__ import annotations

import itertools

import pytest
from pymongo.errors import AutoReconnect, BulkWriteError, OperationFailure

from shared.adapters.mongo import throttle
from shared.ports.store_errors import StoreUnavailable

COSMOS_429 = (
    "Error=16500, RetryAfterMs=12, Details='Response status code does not indicate success:"
    " TooManyRequests (429)'"
)


class Clock:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def failing(times: int, error: Exception):
    calls = {"n": 0}

    async def request() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return "ok"

    return request, calls


async def test_a_throttled_request_waits_as_cosmos_asks_and_succeeds(clock):
    request, calls = failing(2, OperationFailure(COSMOS_429, code=16500))

    assert await throttle.with_retry(request, sleep=clock.sleep) == "ok"

    assert calls["n"] == 3
    assert clock.waits == [0.012, 0.012]


async def test_without_a_hint_the_back_off_grows(clock):
    request, _ = failing(4, OperationFailure("Request rate is large", code=16500))

    await throttle.with_retry(request, sleep=clock.sleep)

    assert all(later > earlier for earlier, later in itertools.pairwise(clock.waits))


async def test_a_request_throttled_too_often_fails(clock):
    request, calls = failing(100, OperationFailure("busy", code=16500))

    with pytest.raises(OperationFailure):
        await throttle.with_retry(request, attempts=3, sleep=clock.sleep)
    assert calls["n"] == 3


async def test_other_errors_are_not_retried(clock):
    request, calls = failing(1, OperationFailure("bad", code=2))

    with pytest.raises(OperationFailure):
        await throttle.with_retry(request, sleep=clock.sleep)
    assert calls["n"] == 1


async def test_a_bulk_write_with_a_throttled_document_is_retried(clock):
    error = BulkWriteError({"writeErrors": [{"index": 0, "code": 16500}], "nInserted": 0})
    request, calls = failing(1, error)

    assert await throttle.with_retry(request, sleep=clock.sleep) == "ok"
    assert calls["n"] == 2


async def test_a_lost_connection_is_store_unavailable(clock):
    request, _ = failing(1, AutoReconnect("connection reset"))

    with pytest.raises(StoreUnavailable):
        await throttle.with_retry(request, sleep=clock.sleep)
