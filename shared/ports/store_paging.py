"""Keyset pagination shared by every list query: a page of items and an opaque cursor.

The cursor is the sort key of the last item returned (base64url of a small JSON array), so
inserts between page requests never make an item appear twice or shift the pages.

A cursor is accepted only in the exact form `encode_cursor` gives (its bytes re-encode to
the same string) and within the bounds of what the stores hold: a time that fits a signed
64-bit integer (SQLite's and BSON's integers; a larger one overflowed the driver) and a
key no longer than any id. Anything else is a cursor the server did not issue.
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

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
MAX_CURSOR_KEY = 128
"""The longest key a cursor may carry (order and execution ids are far shorter)."""

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
    if (
        type(ts) is not int
        or type(key) is not str
        or not _INT64_MIN <= ts <= _INT64_MAX
        or len(key) > MAX_CURSOR_KEY
        or encode_cursor(ts, key) != cursor
    ):
        raise InvalidCursor("malformed cursor")
    return ts, key
