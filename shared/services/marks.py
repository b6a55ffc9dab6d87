"""Mark prices: what a position is worth now, and was worth when the UTC day began.

A live account's positions are marked at the last trade on the internal venue, a paper
account's at the paper market's reference price (what its orders fill against), both as the
matcher last published them (`shared.ports.cache.mark_key`). When the cache has none (a
cold cache), a live mark falls back to the last trade in the store, then to the
instrument's reference price; a paper mark to the reference price, then the last trade. A
position with no mark at all is valued at its cost (no unrealized P&L).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import orjson

from shared.domain.instrument import Instrument
from shared.domain.positions import utc_day
from shared.ports.cache import mark_key
from shared.services.deps import Deps

log = logging.getLogger(__name__)

LAST_TRADE = "last_trade"
PAPER_REFERENCE = "paper_reference"
REFERENCE = "reference_price"


@dataclass(frozen=True, slots=True)
class Mark:
    """A mark in ticks (None: none known), the mark the UTC day began with, and where it
    came from (`last_trade`, `paper_reference`, `reference_price`)."""

    price: int | None
    start_price: int | None
    source: str | None


async def _published(deps: Deps, symbol: str) -> dict[str, object] | None:
    try:
        raw = await deps.cache.get(mark_key(symbol))
    except Exception:  # the cache is lossy by design: fall back to the store
        log.warning("marks of %s: the cache did not answer", symbol, exc_info=True)
        return None
    if raw is None:
        return None
    record = orjson.loads(raw)
    return record if isinstance(record, dict) else None


async def _last_trade(deps: Deps, symbol: str) -> int | None:
    trades = await deps.store.executions.list_trades(symbol, 1)
    return trades[0].price if trades else None


def _int(record: Mapping[str, object], name: str) -> int:
    value = record.get(name)
    return value if isinstance(value, int) else 0


async def mark_of(deps: Deps, instrument: Instrument, paper: bool, now: int) -> Mark:
    """The instrument's mark for a paper or a live account, now (ns)."""
    record = await _published(deps, instrument.symbol) or {}
    name = "paper_px" if paper else "last_px"
    price = _int(record, name)
    if price:
        source = PAPER_REFERENCE if paper else LAST_TRADE
        start = _int(record, f"start_{name}") if record.get("day") == utc_day(now) else 0
        return Mark(price, start or price, source)
    candidates: list[tuple[int | None, str]]
    if paper:
        candidates = [(instrument.reference_price, REFERENCE)]
        candidates.append((_int(record, "last_px"), LAST_TRADE))
    else:
        candidates = [(await _last_trade(deps, instrument.symbol), LAST_TRADE)]
        candidates.append((instrument.reference_price, REFERENCE))
    for found, source in candidates:
        if found:
            return Mark(found, found, source)
    return Mark(None, None, None)


async def marks_of(
    deps: Deps, instruments: Iterable[Instrument], paper: bool, now: int
) -> dict[str, Mark]:
    """`mark_of` each instrument, by symbol."""
    return {i.symbol: await mark_of(deps, i, paper, now) for i in instruments}
