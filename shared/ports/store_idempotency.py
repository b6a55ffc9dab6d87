"""The idempotency-record port: the first response to an (account, Idempotency-Key) pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The stored response of the first request with this key. A retry whose
    `request_hash` matches gets the same response; a different hash is a 409."""

    account_id: str
    key: str
    request_hash: str
    status_code: int
    body: bytes
    created_at: int


class IdempotencyRepository(Protocol):
    """Records unique on (account_id, key)."""

    async def put_if_absent(
        self,
        account_id: str,
        key: str,
        request_hash: str,
        status_code: int,
        body: bytes,
        created_at: int | None = None,
    ) -> IdempotencyRecord:
        """Store the record unless the key is taken; returns the stored record either way
        (compare its request_hash with yours). `created_at` defaults to now (ns)."""
        ...

    async def get(self, account_id: str, key: str) -> IdempotencyRecord | None:
        """The record, or None."""
        ...
