"""Administration: accounts (with their API key, shown once), instruments, the kill switch.

Every change is logged as an audit line (`audit` logger) with who did it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.api_keys import hash_api_key, new_api_key
from shared.domain import reasons
from shared.domain.commands import CancelAll, ConfigureInstrument, SetTradingState
from shared.domain.enums import AccountType, SelfTradePrevention, TradingState
from shared.domain.ids import new_command_id
from shared.domain.instrument import Instrument
from shared.domain.sessions import (
    ALL_DAY,
    MONDAY_TO_FRIDAY,
    WEEKDAYS,
    TradingSession,
    parse_clock,
)
from shared.ports.store_accounts import Account, RiskLimits
from shared.ports.store_errors import DuplicateAccount, VersionConflict
from shared.services import codes
from shared.services.deps import Deps
from shared.services.dispatch import send_commands
from shared.services.errors import Conflict, InvalidRequest, NotFound, Unavailable
from shared.services.mass_cancel import cancel_all
from shared.services.states import GLOBAL_SYMBOL, set_global_state
from shared.services.tickets import lots, ticks

audit = logging.getLogger("audit")


@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    type: AccountType
    roles: tuple[str, ...] = ("trader",)
    risk_limits: RiskLimits = field(default_factory=RiskLimits)
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST
    entra_object_id: str | None = None


async def create_account(deps: Deps, spec: NewAccount, actor: str) -> tuple[Account, str]:
    """Create an account; returns it and its API key (the only time the key is shown)."""
    api_key = new_api_key()
    account = Account(
        account_id=spec.entra_object_id or f"acc_{uuid.uuid4().hex[:24]}",
        name=spec.name,
        type=spec.type,
        api_key_hash=hash_api_key(api_key),
        roles=spec.roles,
        risk_limits=spec.risk_limits,
        stp=spec.stp,
        created_at=deps.clock(),
    )
    try:
        await deps.store.accounts.create(account)
    except DuplicateAccount:
        raise Conflict(codes.INVALID_VALUE, "the account exists", "entra_object_id") from None
    audit.info("account %s created by %s", account.account_id, actor)
    return account, api_key


async def get_account(deps: Deps, account_id: str) -> Account:
    account = await deps.store.accounts.get(account_id)
    if account is None:
        raise NotFound(codes.ACCOUNT_NOT_FOUND, f"no account {account_id}", "account_id")
    return account


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """Fields to change (None = unchanged); risk limits are replaced field by field."""

    name: str | None = None
    roles: tuple[str, ...] | None = None
    stp: SelfTradePrevention | None = None
    risk_limits: dict[str, object] | None = None
    trading_state: TradingState | None = None


async def update_account(
    deps: Deps, account_id: str, changes: AccountChanges, actor: str
) -> Account:
    """Change an account; a trading state change is the kill switch (see set_account_state)."""
    for _ in range(20):
        account = await get_account(deps, account_id)
        limits = account.risk_limits
        if changes.risk_limits:
            limits = replace(limits, **changes.risk_limits)  # type: ignore[arg-type]
        changed = replace(
            account,
            name=changes.name or account.name,
            roles=changes.roles if changes.roles is not None else account.roles,
            stp=changes.stp or account.stp,
            risk_limits=limits,
        )
        try:
            account = await deps.store.accounts.update(changed, account.version)
            break
        except VersionConflict:
            continue
    else:
        raise Conflict(codes.INVALID_VALUE, "the account keeps changing; retry", None)
    audit.info("account %s changed by %s: %s", account_id, actor, changes)
    if changes.trading_state is not None:
        account = await set_account_state(deps, account_id, changes.trading_state, actor)
    return account


async def set_account_state(
    deps: Deps, account_id: str, state: TradingState, actor: str
) -> Account:
    """Kill switch for one account: halted refuses new orders and cancels its resting ones;
    reducing accepts only orders that shrink a position."""
    for _ in range(20):
        account = await get_account(deps, account_id)
        try:
            account = await deps.store.accounts.update(
                replace(account, trading_state=state), account.version
            )
            break
        except VersionConflict:
            continue
    else:
        raise Conflict(codes.INVALID_VALUE, "the account keeps changing; retry", None)
    audit.warning("kill switch: account %s set %s by %s", account_id, state.value, actor)
    if state is TradingState.HALTED:
        await cancel_all(deps, account, None, reasons.CANCELED_BY_HALT)
    return account


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
    session: SessionSpec | str = ALL_DAY


async def create_instrument(deps: Deps, spec: InstrumentSpec, actor: str) -> Instrument:
    """Add an instrument. Its tick and lot sizes never change afterwards: stored orders are
    integers on that grid."""
    if spec.symbol == GLOBAL_SYMBOL or await deps.store.instruments.get(spec.symbol):
        raise Conflict(codes.INSTRUMENT_EXISTS, f"{spec.symbol} exists", "symbol")
    grid = Instrument(
        spec.symbol, spec.tick_size, spec.lot_size, session=trading_session(spec.session)
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
    await deps.store.instruments.upsert(instrument)
    audit.info("instrument %s created by %s", spec.symbol, actor)
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
    session: SessionSpec | str | None = None,
) -> Instrument:
    """Change an instrument's limits, fees, reference price, session (None: unchanged) or
    trading state (the kill switch, see set_instrument_state)."""
    instrument = await get_instrument(deps, symbol)
    changed = _limits(
        instrument,
        min_quantity,
        max_quantity,
        reference_price,
        price_collar_bps=price_collar_bps,
        maker_fee_cbps=maker_fee_cbps,
        taker_fee_cbps=taker_fee_cbps,
    )
    if session is not None:
        changed = replace(changed, session=trading_session(session))
    fees = (changed.maker_fee_cbps, changed.taker_fee_cbps)
    if fees != (instrument.maker_fee_cbps, instrument.taker_fee_cbps):
        # The matcher first, as for the kill switch: if the send fails nothing is stored
        # and the caller retries; its venues charge the new fees from this command on.
        command = ConfigureInstrument(new_command_id(), deps.clock(), symbol, *fees)
        try:
            await send_commands(deps, [command])
        except Exception as error:
            detail = "the matcher's queue cannot be reached: nothing changed, retry"
            raise Unavailable(codes.SERVICE_UNAVAILABLE, detail) from error
    await deps.store.instruments.upsert(changed)
    audit.info("instrument %s changed by %s", symbol, actor)
    if trading_state is not None:
        changed = await set_instrument_state(deps, symbol, trading_state, actor)
    return changed


async def set_instrument_state(
    deps: Deps, symbol: str, state: TradingState, actor: str
) -> Instrument:
    """Kill switch for one instrument: stored for the risk checks and sent to the matcher
    (halted: it rejects new orders and cancels the resting ones)."""
    instrument = (await get_instrument(deps, symbol)).with_state(state)
    # The matcher first: it is the authority on what trades. If the send fails nothing is
    # stored and the caller retries; if storing fails after it, the matcher is already in the
    # new state (a halted matcher rejects what the stale risk check lets through).
    await send_commands(deps, [SetTradingState(new_command_id(), deps.clock(), symbol, state)])
    await deps.store.instruments.upsert(instrument)
    audit.warning("kill switch: instrument %s set %s by %s", symbol, state.value, actor)
    return instrument


async def set_global_trading_state(deps: Deps, state: TradingState, actor: str) -> None:
    """Kill switch for everything: halted refuses every new order and cancels every resting
    order on every instrument (the instruments' own states stay as they were)."""
    await set_global_state(deps.store, state)
    audit.warning("kill switch: everything set %s by %s", state.value, actor)
    if state is TradingState.HALTED:
        now = deps.clock()
        for instrument in await deps.store.instruments.list_instruments():
            if instrument.symbol != GLOBAL_SYMBOL:
                command = CancelAll(
                    new_command_id(), now, instrument.symbol, "", reasons.CANCELED_BY_HALT
                )
                await send_commands(deps, [command])
