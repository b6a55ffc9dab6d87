"""The paper market's reference price source, per instrument, set by an admin: a seeded
random walk or a replayed price file.

The matcher applies it from the SetReferencePrices command on (journaled, so a replay sees
the same market); the instrument keeps a summary (`ReferenceSource`) for the API and the
audit trail. The command is sent first and the summary stored after, so what the API shows
is never ahead of the matcher.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

from shared.domain.commands import SetReferencePrices
from shared.domain.ids import new_command_id
from shared.domain.instrument import Instrument, ReferenceSource
from shared.services import audit, codes
from shared.services.deps import Deps
from shared.services.dispatch import send_commands
from shared.services.errors import InvalidRequest
from shared.services.instrument_admin import change_instrument, get_instrument
from shared.services.tickets import ticks
from shared.services.views import reference_source_view

MS = 1_000_000
_INT64 = 2**63  # times are ns since the epoch in a signed 64-bit integer


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """As the admin API takes it: prices as decimal strings, times in ns."""

    source: str
    seed: int | None = None
    step_ticks: int | None = None
    step_ms: int | None = None
    start_price: str | None = None
    prices: list[tuple[int, str]] | None = None


def _refuse(field: str, detail: str) -> InvalidRequest:
    return InvalidRequest(codes.INVALID_VALUE, detail, field)


def to_command(instrument: Instrument, spec: SourceSpec, ts: int) -> SetReferencePrices:
    """The matcher command of a validated spec; InvalidRequest names the field at fault."""
    start = 0
    if spec.start_price is not None:
        start = ticks(instrument, "start_price", spec.start_price)
        if start <= 0:
            raise _refuse("start_price", "start_price must be greater than zero")
    symbol, command_id = instrument.symbol, new_command_id()
    if spec.source == "walk":
        if spec.prices is not None:
            raise _refuse("prices", "a walk takes no prices (source file does)")
        seed = spec.seed if spec.seed is not None else default_seed(symbol)
        step_ticks = 1 if spec.step_ticks is None else spec.step_ticks
        step_ns = 1_000 * MS if spec.step_ms is None else spec.step_ms * MS
        return SetReferencePrices(command_id, ts, symbol, "walk", seed, step_ticks, step_ns, start)
    for name in ("seed", "step_ticks", "step_ms", "start_price"):
        if getattr(spec, name) is not None:
            raise _refuse(name, f"{name} is for a walk; a price file replays its own prices")
    if not spec.prices:
        raise InvalidRequest(codes.MISSING_FIELD, "a price file needs its prices", "prices")
    points: list[list[int]] = []
    for i, (at, price) in enumerate(spec.prices):
        px = ticks(instrument, f"prices[{i}].price", price)
        if px <= 0:
            raise _refuse(f"prices[{i}].price", "a price must be greater than zero")
        if not 0 <= at < _INT64:
            raise _refuse(f"prices[{i}].at", "a time must be within 1970 and 2262")
        if points and at <= points[-1][0]:
            raise _refuse(f"prices[{i}].at", "the prices must be in strictly ascending time")
        points.append([at, px])
    return SetReferencePrices(command_id, ts, symbol, "file", 0, 1, 1_000 * MS, 0, points)


def default_seed(symbol: str) -> int:
    """The walk's seed when none is given: the instrument's own (the matcher's default)."""
    return zlib.crc32(symbol.encode())


async def set_reference_source(deps: Deps, symbol: str, spec: SourceSpec, actor: str) -> Instrument:
    """Send the new source to the matcher, then store its summary and audit the change."""
    instrument = await get_instrument(deps, symbol)
    command = to_command(instrument, spec, deps.clock())
    await send_commands(deps, [command])
    summary = ReferenceSource(
        kind=command.source,
        seed=command.seed if command.source == "walk" else None,
        step_ticks=command.step_ticks,
        step_ns=command.step_ns,
        points=len(command.prices),
        set_at=command.ts,
    )
    before, after = await change_instrument(
        deps, symbol, lambda i: replace(i, reference_source=summary)
    )
    await audit.record(
        deps,
        actor,
        "instrument.reference_source",
        "instrument",
        symbol,
        reference_source_view(before.reference_source),
        reference_source_view(after.reference_source),
    )
    return after
