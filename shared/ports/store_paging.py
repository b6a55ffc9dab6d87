"""Keyset pagination shared by every list query: a page of items and an opaque cursor.

The cursor is the sort key of the last item returned (base64url of a small JSON array), so
inserts between page requests never make an item appear twice or shift the pages.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

import orjson

from shared.ports.store_errors import InvalidCursor

MAX_PAGE_SIZE = 500
"""The largest page any list query returns, whatever `limit` asks for."""

DEFAULT_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results, newest first. `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None


def clamp_limit(limit: int) -> int:
    """The page size actually used: at least 1, at most MAX_PAGE_SIZE."""
    return max(1, min(int(limit), MAX_PAGE_SIZE))


def encode_cursor(ts: int, key: str) -> str:
    """The cursor that resumes after the item whose sort key is (ts, key)."""
    return base64.urlsafe_b64encode(orjson.dumps([ts, key])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The (ts, key) inside a cursor; anything else raises InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, key = orjson.loads(raw)
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        raise InvalidCursor("malformed cursor") from None
    if type(ts) is not int or not isinstance(key, str):
        raise InvalidCursor("malformed cursor")
    return ts, key
