"""Resetting a paper account: cancel its open orders, flatten its positions, restore its
starting cash, audited. Nothing here needs the matcher to do anything new:

- The cancels and the flattening are ordinary commands: a CancelAll per instrument (as the
  kill switch sends) and a market IOC order per position on the paper venue, for the
  position's whole quantity the other way. They are journaled like any order, so replaying
  the journal gives the very same fills (the fill simulator is deterministic for the
  commands' timestamps), and the flattening costs what the simulated market charged.
- A flattening order bypasses the pre-trade checks (an administrator's action), though it
  counts as an open order in the account's risk ledger (`limits.counting`), and is
  idempotent: its order id and client order id (`reset-<reset_id>-<symbol>`) derive from
  the reset id, so a retried reset never flattens twice.
- Once the account has no open order left, one cash ledger entry (`reset:<reset_id>`, kind
  `reset`) brings its cash back to its starting cash, computed from the cash the journaled
  fills left; retried, it is the same entry.

Lifetime P&L figures (realized, fees) stay as they were: the reset restores cash and
flattens, it does not rewrite history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.enums import AccountType, OrderType, Side, TimeInForce
from shared.domain.order import OPEN_STATUSES, Order
from shared.ports.store_accounts import Account
from shared.ports.store_cash import CASH_UNITS, CashEntry
from shared.ports.store_errors import DuplicateClientOrderId, DuplicateOrderId
from shared.services import audit, balances, codes, limits, risk
from shared.services.cash import RESET, append_entry
from shared.services.client_order_ids import claim_key
from shared.services.deps import Deps
from shared.services.dispatch import dispatch
from shared.services.errors import InvalidRequest
from shared.services.mass_cancel import cancel_all
from shared.services.money_views import money_str
from shared.services.placing import attempt_order_id

CANCELED_BY_RESET = "CANCELED_BY_RESET"
FLATTENING = "flattening"
DONE = "done"


@dataclass(frozen=True, slots=True)
class ResetReport:
    """Where a reset is: `flattening` (open orders left: call again with the same id) or
    `done` (cash restored by `entry`, None when it was right already)."""

    reset_id: str
    status: str
    canceled: int = 0
    flattening: list[str] = field(default_factory=list)
    entry: CashEntry | None = None
    positions_left: dict[str, int] = field(default_factory=dict)


def _paper(account: Account) -> None:
    if account.type is not AccountType.PAPER:
        raise InvalidRequest(
            codes.NOT_A_PAPER_ACCOUNT, "only a paper account can be reset", "account_id"
        )


async def start_reset(deps: Deps, account: Account, reset_id: str) -> ResetReport:
    """Cancel the account's open orders and send an order flattening each position."""
    _paper(account)
    canceled = await cancel_all(deps, account, None, CANCELED_BY_RESET)
    sent: list[str] = []
    for position in await deps.store.positions.list_positions(account.account_id):
        if position.net_quantity:
            order = await _flatten(deps, account, reset_id, position.symbol, position.net_quantity)
            sent.append(order.order_id)
    return ResetReport(reset_id, FLATTENING, len(canceled), sent)


async def _flatten(deps: Deps, account: Account, reset_id: str, symbol: str, net: int) -> Order:
    client_order_id = f"reset-{reset_id}-{symbol}"
    order = Order(
        order_id=attempt_order_id(account, f"reset:{reset_id}:{symbol}"),
        client_order_id=client_order_id,
        account_id=account.account_id,
        symbol=symbol,
        side=Side.SELL if net > 0 else Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=abs(net),
        limit_price=None,
        stop_price=None,
        created_at=deps.clock(),
    )
    now = order.created_at
    fresh = await risk.ledger_of(deps, account, now)
    counted = limits.counting(account.account_id, symbol, risk.utc_day(now)[0], fresh)
    try:
        await deps.store.orders.create(order, claim_key(client_order_id), counted)
        risk.ledger_stored(account.account_id)
    except (DuplicateClientOrderId, DuplicateOrderId):
        stored = await deps.store.orders.get(account.account_id, order.order_id)
        if stored is None or stored.dispatched:
            return stored or order  # placed by an earlier attempt of this reset
        order = stored
    await dispatch(deps, account, [order])
    return order


async def finish_reset(deps: Deps, account: Account, reset_id: str, actor: str) -> ResetReport:
    """Once no order of the account is open, restore its starting cash (once per reset)."""
    _paper(account)
    open_orders = await deps.store.orders.list_orders(
        account.account_id, statuses=OPEN_STATUSES, limit=1
    )
    if open_orders.items:
        return ResetReport(reset_id, FLATTENING)
    before = await balances.account_money(deps, account, deps.clock())
    entry: CashEntry | None = None
    units = (account.starting_cash - before.cash) * CASH_UNITS
    # Cash units carry 8 decimals; fees can be finer: round the restoring entry half to
    # even to a cash unit (the README's cash convention).
    amount = int(units.to_integral_value())
    earlier = await deps.store.cash.get(account.account_id, f"reset:{reset_id}")
    if earlier is not None:
        entry = earlier
    elif amount:
        entry, _ = await append_entry(
            deps, account, f"reset:{reset_id}", RESET, amount, actor, "paper account reset"
        )
    after = await balances.account_money(deps, account, deps.clock())
    left = {p.position.symbol: p.position.net_quantity for p in after.positions}
    if earlier is None:
        await audit.record(
            deps,
            actor,
            "account.reset",
            "account",
            account.account_id,
            {"cash": money_str(before.cash), "equity": money_str(before.equity)},
            {"cash": money_str(after.cash), "equity": money_str(after.equity)},
            f"paper reset {reset_id}",
        )
    return ResetReport(
        reset_id, DONE, entry=entry, positions_left={s: q for s, q in left.items() if q}
    )
