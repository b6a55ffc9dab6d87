"""Administration of instruments: create them (their grid never changes afterwards), change
their limits, fees, reference price, settlement cycle and trading session, and their kill
switch. A fee change reaches the matcher (ConfigureInstrument) before it is stored.

Every change is a conditional write from a fresh read (none is lost to a concurrent one)
and is recorded in the audit trail (`shared.services.audit`: who, when, before and after).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain import reasons
from shared.domain.commands import ConfigureInstrument
from shared.domain.enums import AssetClass, TradingState
from shared.domain.ids import new_command_id
from shared.domain.instrument import Instrument, default_settlement_days
from shared.domain.sessions import (
    ALL_DAY,
    MONDAY_TO_FRIDAY,
    WEEKDAYS,
    TradingSession,
    parse_clock,
)
from shared.ports.store_errors import DuplicateInstrument, VersionConflict
from shared.services import audit, codes
from shared.services.deps import Deps
from shared.services.dispatch import send_commands
from shared.services.errors import Conflict, InvalidRequest, NotFound, Unavailable
from shared.services.states import (
    ATTEMPTS,
    GLOBAL_SYMBOL,
    StateChanging,
    store_instrument_state,
    sync_instrument_state,
)
from shared.services.tickets import lots, ticks
from shared.services.views import instrument_view


async def change_instrument(
    deps: Deps, symbol: str, change: Callable[[Instrument], Instrument]
) -> tuple[Instrument, Instrument]:
    """`change_account` for an instrument. A change of its fees is sent to the matcher
    first (ConfigureInstrument), as for the kill switch: if the send fails nothing is
    stored and the caller retries; its venues charge the new fees from that command on."""
    for _ in range(ATTEMPTS):
        instrument = await get_instrument(deps, symbol)
        changed = change(instrument)
        fees = (changed.maker_fee_cbps, changed.taker_fee_cbps)
        if fees != (instrument.maker_fee_cbps, instrument.taker_fee_cbps):
            await _configure_matcher(deps, symbol, fees)
        try:
            stored = await deps.store.instruments.update(changed, instrument.version)
            return instrument, stored
        except VersionConflict:
            continue
    raise _keeps_changing()


async def _configure_matcher(deps: Deps, symbol: str, fees: tuple[int, int]) -> None:
    command = ConfigureInstrument(new_command_id(), deps.clock(), symbol, *fees)
    try:
        await send_commands(deps, [command])
    except Exception as error:
        detail = "the matcher's queue cannot be reached: nothing changed, retry"
        raise Unavailable(codes.SERVICE_UNAVAILABLE, detail) from error


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """A trading session as the admin API takes it: local "HH:MM" times, an IANA time zone,
    the weekdays it opens on ("mon" ... "sun"; default Monday to Friday)."""

    open: str
    close: str
    timezone: str
    days: tuple[str, ...] | None = None


def trading_session(spec: SessionSpec | str) -> TradingSession | None:
    """The session a spec describes ("24h": None, a market that never closes);
    InvalidRequest names the field at fault."""
    if isinstance(spec, str):
        if spec != ALL_DAY:
            raise InvalidRequest(codes.INVALID_VALUE, 'a session or "24h"', "session")
        return None
    try:
        opens = parse_clock(spec.open)
    except ValueError as error:
        raise InvalidRequest(codes.INVALID_VALUE, str(error), "session.open") from None
    try:
        closes = parse_clock(spec.close, end_of_day=True)
    except ValueError as error:
        raise InvalidRequest(codes.INVALID_VALUE, str(error), "session.close") from None
    if opens == closes % (24 * 60):
        detail = 'a session that never closes is "24h"'
        raise InvalidRequest(codes.INVALID_VALUE, detail, "session.close")
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        detail = f"{spec.timezone!r} is not an IANA time zone"
        raise InvalidRequest(codes.INVALID_VALUE, detail, "session.timezone") from None
    days: tuple[int, ...] = MONDAY_TO_FRIDAY
    if spec.days is not None:
        if not spec.days or any(day not in WEEKDAYS for day in spec.days):
            detail = f"weekdays among {', '.join(WEEKDAYS)}"
            raise InvalidRequest(codes.INVALID_VALUE, detail, "session.days")
        days = tuple(sorted({WEEKDAYS.index(day) for day in spec.days}))
    return TradingSession(opens, closes, spec.timezone, days)


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """An instrument as the admin API takes it: decimal strings for sizes and prices."""

    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: str | None = None
    max_quantity: str | None = None
    price_collar_bps: int = 1_000
    maker_fee_cbps: int = 0
    taker_fee_cbps: int = 0
    reference_price: str | None = None
    asset_class: AssetClass = AssetClass.EQUITY
    settlement_days: int | None = None  # None: the asset class's usual cycle
    currency: str = "USD"
    session: SessionSpec | str = ALL_DAY


def _keeps_changing() -> Conflict:
    return Conflict(codes.INVALID_VALUE, "the instrument keeps changing; retry", None)


def _exists(symbol: str) -> Conflict:
    return Conflict(codes.INSTRUMENT_EXISTS, f"{symbol} exists", "symbol")


async def create_instrument(deps: Deps, spec: InstrumentSpec, actor: str) -> Instrument:
    """Add an instrument. Its tick and lot sizes never change afterwards: stored orders are
    integers on that grid. Created only if the symbol is free (one of many concurrent
    creators wins; the others get INSTRUMENT_EXISTS), so the grid stored is the one its
    creator was answered with."""
    if spec.symbol == GLOBAL_SYMBOL:
        raise _exists(spec.symbol)
    settlement_days = spec.settlement_days
    if settlement_days is None:
        settlement_days = default_settlement_days(spec.asset_class)
    grid = Instrument(
        spec.symbol,
        spec.tick_size,
        spec.lot_size,
        asset_class=spec.asset_class,
        settlement_days=settlement_days,
        currency=spec.currency,
        session=trading_session(spec.session),
    )
    instrument = _limits(
        grid,
        spec.min_quantity,
        spec.max_quantity,
        spec.reference_price,
        price_collar_bps=spec.price_collar_bps,
        maker_fee_cbps=spec.maker_fee_cbps,
        taker_fee_cbps=spec.taker_fee_cbps,
    )
    try:
        await deps.store.instruments.create(instrument)
    except DuplicateInstrument:
        raise _exists(spec.symbol) from None
    await audit.record(
        deps,
        actor,
        "instrument.created",
        "instrument",
        spec.symbol,
        None,
        instrument_view(instrument),
    )
    return instrument


def _limits(
    instrument: Instrument,
    min_quantity: str | None,
    max_quantity: str | None,
    reference_price: str | None,
    **others: int | None,
) -> Instrument:
    given: dict[str, Any] = {k: v for k, v in others.items() if v is not None}
    changed = replace(instrument, **given)
    if min_quantity is not None:
        changed = replace(changed, min_quantity=lots(changed, "min_quantity", min_quantity))
    if max_quantity is not None:
        changed = replace(changed, max_quantity=lots(changed, "max_quantity", max_quantity))
    if reference_price is not None:
        changed = replace(
            changed, reference_price=ticks(changed, "reference_price", reference_price)
        )
    if changed.min_quantity > changed.max_quantity:
        raise InvalidRequest(
            codes.INVALID_VALUE, "min_quantity is above max_quantity", "min_quantity"
        )
    return changed


async def get_instrument(deps: Deps, symbol: str) -> Instrument:
    instrument = await deps.store.instruments.get(symbol)
    if instrument is None or symbol == GLOBAL_SYMBOL:
        raise NotFound(reasons.UNKNOWN_INSTRUMENT, f"no instrument {symbol}", "symbol")
    return instrument


async def update_instrument(
    deps: Deps,
    symbol: str,
    actor: str,
    *,
    min_quantity: str | None = None,
    max_quantity: str | None = None,
    reference_price: str | None = None,
    price_collar_bps: int | None = None,
    maker_fee_cbps: int | None = None,
    taker_fee_cbps: int | None = None,
    trading_state: TradingState | None = None,
    settlement_days: int | None = None,
    session: SessionSpec | str | None = None,
) -> Instrument:
    """Change the given limits, fees, reference price, settlement cycle (for fills projected
    from now on), trading session or trading state, and nothing else: a conditional write
    from a fresh read, again after every concurrent change (a kill switch, another PATCH),
    so none is lost."""
    new_session = None if session is None else trading_session(session)  # 422 before all

    def change(instrument: Instrument) -> Instrument:
        changed = _limits(
            instrument,
            min_quantity,
            max_quantity,
            reference_price,
            price_collar_bps=price_collar_bps,
            maker_fee_cbps=maker_fee_cbps,
            taker_fee_cbps=taker_fee_cbps,
            settlement_days=settlement_days,
        )
        return changed if session is None else replace(changed, session=new_session)

    before, changed = await change_instrument(deps, symbol, change)
    await audit.record(
        deps,
        actor,
        "instrument.changed",
        "instrument",
        symbol,
        instrument_view(before),
        instrument_view(changed),
    )
    if trading_state is not None:
        changed = await set_instrument_state(deps, symbol, trading_state, actor)
    return changed


async def set_instrument_state(
    deps: Deps, symbol: str, state: TradingState, actor: str
) -> Instrument:
    """Kill switch for one instrument: stored for the risk checks and sent to the matcher
    (halted: it rejects new orders and cancels the resting ones). Stored first, then sent
    until the matcher's last state is the stored one (see shared.services.states); if the
    send fails, the error is raised and the outbox sweep sends the stored state later."""
    before = (await get_instrument(deps, symbol)).trading_state  # 404 before anything else
    try:
        await store_instrument_state(deps, symbol, state)
        await audit.record(
            deps,
            actor,
            "kill_switch.instrument",
            "instrument",
            symbol,
            {"trading_state": before.value},
            {"trading_state": state.value},
        )
        return await sync_instrument_state(deps, symbol)
    except StateChanging:
        raise _keeps_changing() from None
