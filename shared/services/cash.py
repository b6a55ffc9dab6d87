"""Deposits and withdrawals: an administrator moves an account's cash with an audited
ledger entry, once per entry id (a retried request finds its entry and changes nothing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from shared.ports.store_accounts import Account
from shared.ports.store_cash import CASH_UNITS, CashEntry, LedgerConflict, cash_money
from shared.services import audit, balances, codes
from shared.services.deps import Deps
from shared.services.errors import Conflict, InvalidRequest
from shared.services.money_views import money_str

DEPOSIT = "deposit"
WITHDRAWAL = "withdrawal"
RESET = "reset"
_ATTEMPTS = 20


def to_units(amount: Decimal, field: str = "amount") -> int:
    """Cash units of a positive amount with at most 8 decimals; InvalidRequest otherwise."""
    units = amount * CASH_UNITS
    if not amount.is_finite() or amount <= 0 or units != units.to_integral_value():
        raise InvalidRequest(
            codes.INVALID_VALUE, "must be greater than zero, with at most 8 decimals", field
        )
    return int(units)


async def append_entry(
    deps: Deps,
    account: Account,
    entry_id: str,
    kind: str,
    units: int,
    actor: str,
    note: str,
    check: Callable[[Decimal], Awaitable[None]] | None = None,
) -> tuple[CashEntry, bool]:
    """Append the entry as the account's next; (the entry, True) when it is new, (the entry
    stored under this id before, False) on a retry. Conflict when the id was used for a
    different movement. `check` (given the ledger's balance the entry follows) may refuse
    it; it runs again whenever another entry took the number first, so two withdrawals
    racing each see the other."""
    for _ in range(_ATTEMPTS):
        if (earlier := await deps.store.cash.get(account.account_id, entry_id)) is not None:
            return _same(earlier, kind, units), False
        last = await deps.store.cash.last(account.account_id)
        seq, balance = (last.seq, last.balance) if last is not None else (0, 0)
        if check is not None:
            await check(cash_money(balance))
        entry = CashEntry(
            account.account_id,
            entry_id,
            seq + 1,
            kind,
            units,
            balance + units,
            deps.clock(),
            actor,
            note,
        )
        try:
            stored = await deps.store.cash.append(entry)
        except LedgerConflict:
            continue
        if stored is entry:
            return entry, True
        return _same(stored, kind, units), False
    raise Conflict(codes.INVALID_VALUE, "the ledger keeps changing; retry", None)


def _same(stored: CashEntry, kind: str, units: int) -> CashEntry:
    """The entry stored under the id, if it is the same movement; Conflict otherwise."""
    if (stored.kind, stored.amount) != (kind, units):
        raise Conflict(
            codes.CASH_ENTRY_REUSED,
            f"entry {stored.entry_id} was a {stored.kind} of {cash_money(abs(stored.amount))}",
            "entry_id",
        )
    return stored


async def move_cash(
    deps: Deps,
    account: Account,
    kind: str,
    amount: Decimal,
    entry_id: str,
    actor: str,
    note: str = "",
) -> CashEntry:
    """Deposit or withdraw `amount` (positive) under `entry_id`, audited. A withdrawal may
    take settled cash only (Conflict INSUFFICIENT_CASH otherwise)."""
    units = to_units(amount)
    signed = units if kind == DEPOSIT else -units
    before = await balances.account_money(deps, account, deps.clock())

    async def enough(ledger: Decimal) -> None:
        money = await balances.account_money(deps, account, deps.clock())
        settled = money.settled_cash - money.ledger + ledger  # as of the entry it follows
        if amount > settled:
            raise Conflict(
                codes.INSUFFICIENT_CASH,
                f"{amount} is more than the settled cash {settled}",
                "amount",
            )

    check = enough if kind == WITHDRAWAL else None
    entry, new = await append_entry(deps, account, entry_id, kind, signed, actor, note, check)
    if new:
        after = await balances.account_money(deps, account, deps.clock())
        await audit.record(
            deps,
            actor,
            f"cash.{kind}",
            "account",
            account.account_id,
            {"cash": money_str(before.cash), "settled_cash": money_str(before.settled_cash)},
            {"cash": money_str(after.cash), "settled_cash": money_str(after.settled_cash)},
            f"{kind} of {amount} {account.currency} ({entry_id}) {note}".strip(),
        )
    return entry
