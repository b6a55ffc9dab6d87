"""Idempotency-Key: the first successful response to a key is the response to every retry
with the same request; a different request with the key is a 409. The store keeps the record
for good; the cache is the fast path and a short lock against two concurrent first tries."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson

from shared.ports.cache import idempotency_key
from shared.ports.store_idempotency import IdempotencyRecord
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import Conflict

_KEY_PREFIX = "idempotency-key:"
_CACHE_TTL = 86_400.0
_LOCK_TTL = 30.0


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    replayed: bool


def _encode(record: IdempotencyRecord) -> bytes:
    return orjson.dumps(
        {
            "hash": record.request_hash,
            "status": record.status_code,
            "body": base64.b64encode(record.body).decode(),
        }
    )


def _decode(raw: bytes) -> tuple[str, int, bytes]:
    data = orjson.loads(raw)
    return str(data["hash"]), int(data["status"]), base64.b64decode(data["body"])


def _replay(request_hash: str, stored_hash: str, status: int, body: bytes) -> StoredResponse:
    if stored_hash != request_hash:
        raise Conflict(
            codes.IDEMPOTENCY_KEY_REUSED,
            "this Idempotency-Key was used with a different request",
            "Idempotency-Key",
        )
    return StoredResponse(status, body, True)


async def run_once(
    deps: Deps,
    account_id: str,
    key: str,
    request_hash: str,
    run: Callable[[], Awaitable[tuple[int, bytes]]],
) -> StoredResponse:
    """The stored response for (account, key) if there is one, else `run()`'s, stored when
    it succeeded (2xx). Errors `run` raises are not stored: a retry runs again."""
    cache_key = idempotency_key(account_id, key)
    cached = await deps.cache.get(cache_key)
    if cached is not None:
        return _replay(request_hash, *_decode(cached))
    record = await deps.store.idempotency.get(account_id, _KEY_PREFIX + key)
    if record is not None:
        await deps.cache.set(cache_key, _encode(record), _CACHE_TTL)
        return _replay(request_hash, record.request_hash, record.status_code, record.body)
    lock = cache_key + ":lock"
    if await deps.cache.incr(lock, 1, _LOCK_TTL) > 1:
        raise Conflict(
            codes.IDEMPOTENCY_KEY_IN_USE,
            "a request with this Idempotency-Key is in progress; retry later",
            "Idempotency-Key",
        )
    try:
        status, body = await run()
        if status >= 300:
            return StoredResponse(status, body, False)
        record = await deps.store.idempotency.put_if_absent(
            account_id, _KEY_PREFIX + key, request_hash, status, body, deps.clock()
        )
        await deps.cache.set(cache_key, _encode(record), _CACHE_TTL)
        if (record.request_hash, record.status_code, record.body) == (request_hash, status, body):
            return StoredResponse(status, body, False)  # ours: the first answer, no replay
        # Another request with the key stored its answer first (the lock is only a cache's).
        return _replay(request_hash, record.request_hash, record.status_code, record.body)
    finally:
        await deps.cache.delete(lock)
