"""Retry of requests that Cosmos DB throttles (error 16500) and driver error translation.

Cosmos answers a request over the provisioned throughput with code 16500 and a message
holding `RetryAfterMs=<n>`. We wait that long (or back off exponentially with jitter when
no hint is given) and try again, a bounded number of times. With server-side retry enabled
on the account Cosmos retries itself and 16500 rarely reaches us; this covers both.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pymongo.errors import BulkWriteError, ConnectionFailure, OperationFailure

from shared.ports.store_errors import StoreUnavailable

T = TypeVar("T")

THROTTLED = 16500
MAX_ATTEMPTS = 10
BASE_DELAY_S = 0.05
MAX_DELAY_S = 5.0
_RETRY_AFTER = re.compile(r"RetryAfterMs=(\d+)")


def is_throttled(error: OperationFailure) -> bool:
    """Whether the server refused the request for exceeding the provisioned throughput."""
    if error.code == THROTTLED:
        return True
    if isinstance(error, BulkWriteError):
        return any(e.get("code") == THROTTLED for e in error.details.get("writeErrors", []))
    return False


def retry_delay(error: OperationFailure, attempt: int) -> float:
    """Seconds to wait before retry `attempt` (0-based): the server's hint if it gave one."""
    hint = _RETRY_AFTER.search(str(error))
    if hint:
        return min(int(hint.group(1)) / 1000, MAX_DELAY_S)
    backoff = min(BASE_DELAY_S * float(2**attempt), MAX_DELAY_S)
    return backoff / 2 + random.uniform(0, backoff / 2)


async def with_retry(
    request: Callable[[], Awaitable[T]],
    attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `request`, retrying while it is throttled; a lost connection is StoreUnavailable.

    Only for requests that are safe to repeat: inserts whose duplicate-key errors the caller
    treats as "already there", conditional updates, reads.
    """
    for attempt in range(attempts):
        try:
            return await request()
        except OperationFailure as error:
            if not is_throttled(error) or attempt == attempts - 1:
                raise
            await sleep(retry_delay(error, attempt))
        except ConnectionFailure as error:
            raise StoreUnavailable(str(error)) from error
    raise AssertionError("unreachable")
