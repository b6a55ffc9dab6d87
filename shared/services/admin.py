"""Administration: accounts (with their API key, shown once), their risk ledgers, the kill
switch for an account and for everything (instruments: `shared.services.instrument_admin`).

Every change is recorded in the audit trail (`shared.services.audit`: who, when, the thing
before and after) and logged as an audit line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from shared.api_keys import hash_api_key, new_api_key
from shared.domain import reasons
from shared.domain.commands import CancelAll
from shared.domain.enums import AccountType, SelfTradePrevention, TradingState
from shared.domain.ids import new_command_id
from shared.ports.store_accounts import Account, RiskLimits
from shared.ports.store_errors import DuplicateAccount, VersionConflict
from shared.ports.store_risk import RiskLedger
from shared.services import admin_feed, audit, codes, paper_controls, risk
from shared.services.auth import ADMIN
from shared.services.cash import to_units
from shared.services.deps import Deps
from shared.services.dispatch import send_commands
from shared.services.errors import Conflict, NotFound
from shared.services.mass_cancel import cancel_all
from shared.services.states import (
    ATTEMPTS,
    GLOBAL_SYMBOL,
    StateChanging,
    global_state,
    set_global_state,
)
from shared.services.views import account_view, risk_ledger_view


@dataclass(frozen=True, slots=True)
class NewAccount:
    name: str
    type: AccountType
    roles: tuple[str, ...] = ("trader",)
    risk_limits: RiskLimits = field(default_factory=RiskLimits)
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST
    entra_object_id: str | None = None
    currency: str = "USD"
    starting_cash: Decimal | None = None  # None: OMS_PAPER_STARTING_CASH for paper, else 0


async def create_account(deps: Deps, spec: NewAccount, actor: str) -> tuple[Account, str]:
    """Create an account; returns it and its API key (the only time the key is shown).
    A paper account starts with OMS_PAPER_STARTING_CASH unless `starting_cash` says."""
    starting_cash = spec.starting_cash
    if starting_cash is None:
        paper = spec.type is AccountType.PAPER
        starting_cash = deps.settings.OMS_PAPER_STARTING_CASH if paper else Decimal(0)
    elif starting_cash != 0:
        to_units(starting_cash, "starting_cash")  # positive, on the cash grid
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
        currency=spec.currency,
        starting_cash=starting_cash,
    )
    try:
        await deps.store.accounts.create(account)
    except DuplicateAccount:
        raise Conflict(codes.INVALID_VALUE, "the account exists", "entra_object_id") from None
    await audit.record(
        deps, actor, "account.created", "account", account.account_id, None, account_view(account)
    )
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
    simulator: dict[str, int | None] | None = None  # see paper_controls.simulator_changes
    shadow: bool | None = None


async def change_account(
    deps: Deps, account_id: str, change: Callable[[Account], Account]
) -> tuple[Account, Account]:
    """Store `change(account)` conditionally on the version it was read at, again from a
    fresh read after every concurrent change, so no change is lost; returns the account
    as read for the change that stored and as stored (before, after, for the audit
    trail). `change` may raise to refuse. Conflict when it keeps changing."""
    for _ in range(ATTEMPTS):
        account = await get_account(deps, account_id)
        try:
            return account, await deps.store.accounts.update(change(account), account.version)
        except VersionConflict:
            continue
    raise Conflict(codes.INVALID_VALUE, "the account keeps changing; retry", None)


async def update_account(
    deps: Deps, account_id: str, changes: AccountChanges, actor: str
) -> Account:
    """Change an account; a trading state change is the kill switch (see set_account_state)."""

    def change(account: Account) -> Account:
        limits = account.risk_limits
        if changes.risk_limits:
            limits = replace(limits, **changes.risk_limits)  # type: ignore[arg-type]
        if changes.simulator is not None:
            account = paper_controls.with_simulator(account, changes.simulator)
        if changes.shadow is not None:
            account = paper_controls.with_shadow(account, changes.shadow)
        return replace(
            account,
            name=changes.name or account.name,
            roles=changes.roles if changes.roles is not None else account.roles,
            stp=changes.stp or account.stp,
            risk_limits=limits,
        )

    before, account = await change_account(deps, account_id, change)
    if changes.roles is not None and ADMIN not in changes.roles:
        await admin_feed.demoted(deps, account_id)  # (also when it was not one: idempotent)
    await audit.record(
        deps,
        actor,
        "account.changed",
        "account",
        account_id,
        account_view(before),
        account_view(account),
    )
    if changes.trading_state is not None:
        account = await set_account_state(deps, account_id, changes.trading_state, actor)
    return account


async def set_account_state(
    deps: Deps, account_id: str, state: TradingState, actor: str
) -> Account:
    """Kill switch for one account: halted refuses new orders and cancels its resting ones;
    reducing accepts only orders that shrink a position."""
    before, account = await change_account(
        deps, account_id, lambda account: replace(account, trading_state=state)
    )
    await audit.record(
        deps,
        actor,
        "kill_switch.account",
        "account",
        account_id,
        {"trading_state": before.trading_state.value},
        {"trading_state": state.value},
    )
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
    before = await deps.store.risk.get(account_id)
    try:
        ledger = await risk.rebuild_ledger(deps, account, deps.clock())
    except VersionConflict:
        raise Conflict(codes.INVALID_VALUE, "the ledger keeps changing; retry", None) from None
    await audit.record(
        deps,
        actor,
        "risk_ledger.rebuilt",
        "account",
        account_id,
        None if before is None else risk_ledger_view(before),
        risk_ledger_view(ledger),
    )
    return ledger


async def set_global_trading_state(deps: Deps, state: TradingState, actor: str) -> None:
    """Kill switch for everything: halted refuses every new order (the risk check reads
    the stored global state) and cancels every resting order: one CancelAll to each
    instrument that has open orders, and to no other (an instrument without any has
    nothing to cancel, and waking its book would only take a matcher slot). The
    instruments' own states stay as they were; resuming sends nothing."""
    before = await global_state(deps.store)
    try:
        await set_global_state(deps.store, state)
    except StateChanging:
        raise Conflict(
            codes.INVALID_VALUE, "the global state keeps changing; retry", None
        ) from None
    await audit.record(
        deps,
        actor,
        "kill_switch.global",
        "global",
        GLOBAL_SYMBOL,
        {"trading_state": before.value},
        {"trading_state": state.value},
    )
    if state is TradingState.HALTED:
        now = deps.clock()
        for symbol in sorted(await deps.store.orders.open_symbols()):
            if symbol != GLOBAL_SYMBOL:
                command = CancelAll(new_command_id(), now, symbol, "", reasons.CANCELED_BY_HALT)
                await send_commands(deps, [command])
