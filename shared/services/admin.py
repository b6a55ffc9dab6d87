"""Administration: accounts (with their API key, shown once), instruments, the kill switch.

Every change is logged as an audit line (`audit` logger) with who did it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from shared.api_keys import hash_api_key, new_api_key
from shared.domain import reasons
from shared.domain.commands import CancelAll
from shared.domain.enums import AccountType, SelfTradePrevention, TradingState
from shared.domain.ids import new_command_id
from shared.domain.instrument import Instrument
from shared.ports.store_accounts import Account, RiskLimits
from shared.ports.store_errors import DuplicateAccount, DuplicateInstrument, VersionConflict
from shared.ports.store_risk import RiskLedger
from shared.services import codes, risk
from shared.services.deps import Deps
from shared.services.dispatch import send_commands
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.mass_cancel import cancel_all
from shared.services.states import (
    ATTEMPTS,
    GLOBAL_SYMBOL,
    StateChanging,
    set_global_state,
    store_instrument_state,
    sync_instrument_state,
)
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


async def change_account(
    deps: Deps, account_id: str, change: Callable[[Account], Account]
) -> Account:
    """Store `change(account)` conditionally on the version it was read at, again from a
    fresh read after every concurrent change, so no change is lost; returns the account
    as stored. `change` may raise to refuse. Conflict when it keeps changing."""
    for _ in range(ATTEMPTS):
        account = await get_account(deps, account_id)
        try:
            return await deps.store.accounts.update(change(account), account.version)
        except VersionConflict:
            continue
    raise Conflict(codes.INVALID_VALUE, "the account keeps changing; retry", None)


async def change_instrument(
    deps: Deps, symbol: str, change: Callable[[Instrument], Instrument]
) -> Instrument:
    """`change_account` for an instrument."""
    for _ in range(ATTEMPTS):
        instrument = await get_instrument(deps, symbol)
        try:
            return await deps.store.instruments.update(change(instrument), instrument.version)
        except VersionConflict:
            continue
    raise _keeps_changing()


async def update_account(
    deps: Deps, account_id: str, changes: AccountChanges, actor: str
) -> Account:
    """Change an account; a trading state change is the kill switch (see set_account_state)."""

    def change(account: Account) -> Account:
        limits = account.risk_limits
        if changes.risk_limits:
            limits = replace(limits, **changes.risk_limits)  # type: ignore[arg-type]
        return replace(
            account,
            name=changes.name or account.name,
            roles=changes.roles if changes.roles is not None else account.roles,
            stp=changes.stp or account.stp,
            risk_limits=limits,
        )

    account = await change_account(deps, account_id, change)
    audit.info("account %s changed by %s: %s", account_id, actor, changes)
    if changes.trading_state is not None:
        account = await set_account_state(deps, account_id, changes.trading_state, actor)
    return account


async def set_account_state(
    deps: Deps, account_id: str, state: TradingState, actor: str
) -> Account:
    """Kill switch for one account: halted refuses new orders and cancels its resting ones;
    reducing accepts only orders that shrink a position."""
    account = await change_account(
        deps, account_id, lambda account: replace(account, trading_state=state)
    )
    audit.warning("kill switch: account %s set %s by %s", account_id, state.value, actor)
    if state is TradingState.HALTED:
        await cancel_all(deps, account, None, reasons.CANCELED_BY_HALT)
    return account


async def rebuild_risk_ledger(deps: Deps, account_id: str, actor: str) -> RiskLedger:
    """Recount an account's risk ledger from its orders (after a crash of a store without
    transactions left it holding too much). The account must be halted meanwhile, so no
    placement is halfway through."""
    account = await get_account(deps, account_id)
    if account.trading_state is not TradingState.HALTED:
        detail = "halt the account first: a placement halfway through would be missed"
        raise Conflict(codes.ACCOUNT_NOT_HALTED, detail, "account_id")
    try:
        ledger = await risk.rebuild_ledger(deps, account, deps.clock())
    except VersionConflict:
        raise Conflict(codes.INVALID_VALUE, "the ledger keeps changing; retry", None) from None
    audit.warning(
        "risk ledger of %s rebuilt by %s: %d open orders holding %s",
        account_id,
        actor,
        ledger.open_orders,
        ledger.open_notional,
    )
    return ledger


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
    grid = Instrument(spec.symbol, spec.tick_size, spec.lot_size)
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
) -> Instrument:
    """Change the given fields, and nothing else: a conditional write from a fresh read,
    again after every concurrent change (a kill switch, another PATCH), so none is lost."""

    def change(instrument: Instrument) -> Instrument:
        return _limits(
            instrument,
            min_quantity,
            max_quantity,
            reference_price,
            price_collar_bps=price_collar_bps,
            maker_fee_cbps=maker_fee_cbps,
            taker_fee_cbps=taker_fee_cbps,
        )

    changed = await change_instrument(deps, symbol, change)
    audit.info("instrument %s changed by %s", symbol, actor)
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
    await get_instrument(deps, symbol)  # 404 before anything else
    try:
        await store_instrument_state(deps, symbol, state)
        audit.warning("kill switch: instrument %s set %s by %s", symbol, state.value, actor)
        return await sync_instrument_state(deps, symbol)
    except StateChanging:
        raise _keeps_changing() from None


async def set_global_trading_state(deps: Deps, state: TradingState, actor: str) -> None:
    """Kill switch for everything: halted refuses every new order (the risk check reads
    the stored global state) and cancels every resting order: one CancelAll to each
    instrument that has open orders, and to no other (an instrument without any has
    nothing to cancel, and waking its book would only take a matcher slot). The
    instruments' own states stay as they were; resuming sends nothing."""
    try:
        await set_global_state(deps.store, state)
    except StateChanging:
        raise Conflict(
            codes.INVALID_VALUE, "the global state keeps changing; retry", None
        ) from None
    audit.warning("kill switch: everything set %s by %s", state.value, actor)
    if state is TradingState.HALTED:
        now = deps.clock()
        for symbol in sorted(await deps.store.orders.open_symbols()):
            if symbol != GLOBAL_SYMBOL:
                command = CancelAll(new_command_id(), now, symbol, "", reasons.CANCELED_BY_HALT)
                await send_commands(deps, [command])
