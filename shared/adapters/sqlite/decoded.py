"""Decoded documents by their stored bytes, for rows read far more often than written.

Every order placement reads its account and its instrument; decoding them (JSON, Decimals,
enums, the dataclasses) costs more than the read. A row read back unchanged has the same
bytes, so its decoded value is reused: nothing is ever stale, a changed row simply decodes
anew. Only for immutable values (the frozen Account and Instrument).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class DecodedDocs(Generic[T]):
    """`decode(raw)`, remembered for up to `size` distinct documents."""

    def __init__(self, decode: Callable[[bytes], T], size: int = 4096) -> None:
        self._decode = decode
        self._size = size
        self._known: dict[bytes, T] = {}

    def remember(self, raw: bytes, value: T) -> None:
        """`value` is what `raw` decodes to (a writer that just encoded it knows)."""
        if len(self._known) >= self._size:
            self._known.clear()
        self._known[raw] = value

    def __call__(self, raw: bytes) -> T:
        value = self._known.get(raw)
        if value is None:
            if len(self._known) >= self._size:
                self._known.clear()  # bounded; the working set refills at once
            value = self._known[raw] = self._decode(raw)
        return value
