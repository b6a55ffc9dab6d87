"""Orders that may only reduce a position: `reduce_only` orders, and every order of an account
or instrument whose kill switch is `reducing`.

One order alone may reduce the position while several together flip it (three sells of the
whole position), so the account's open orders on the reducing side count too, with their
live and their held parts (a contingent leg may go live later): the new order fits when it
and they add up to at most the position. A `reduce_only` order counts the account's other
open `reduce_only` orders (the engine, which trims them as fills change the position, counts
the same ones); a reducing kill switch counts every open order on that side, since any of
them may fill. The position is the one the projector keeps from the fills.

That count is read before the order is stored, so requests at once may each see the others'
orders missing: the intake's check is the early, friendly refusal, not the guarantee. The
guarantee is the matcher's, the single writer per instrument: a simple order accepted under a
`reducing` state is placed `reduce_only` (`under_reducing`), and the engine (and the fill
simulator) refuse a reduce-only order that would exceed the position with the account's
other open reduce-only orders (`REDUCE_ONLY_WOULD_INCREASE`) and trim them as fills move the
position (`REDUCE_ONLY_TRIMMED`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from shared.domain import order_rules
from shared.domain.enums import OrderClass, Side, TradingState
from shared.domain.instrument import Instrument
from shared.domain.order import OPEN_STATUSES, Order
from shared.ports.store_accounts import Account
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services.deps import Deps
from shared.services.states import global_state
from shared.services.tickets import Ticket


def any_order(order: Order) -> bool:
    return True


def reduce_only_order(order: Order) -> bool:
    return order.reduce_only


async def open_on_side(
    deps: Deps,
    account_id: str,
    symbol: str,
    side: Side,
    counted: Callable[[Order], bool],
    excluding: str | None = None,
) -> int:
    """Lots the account's counted open orders on `side` may still trade (live + held);
    `excluding` leaves one order out (the one being replaced)."""
    total, cursor = 0, None
    while True:
        page = await deps.store.orders.list_orders(
            account_id,
            statuses=OPEN_STATUSES,
            symbol=symbol,
            side=side,
            limit=MAX_PAGE_SIZE,
            cursor=cursor,
        )
        total += sum(
            order.leaves_qty + order.held_qty
            for order in page.items
            if order.order_id != excluding and counted(order)
        )
        cursor = page.next_cursor
        if cursor is None:
            return total


async def increase_field(
    deps: Deps,
    account_id: str,
    symbol: str,
    side: Side,
    quantity: int,
    counted: Callable[[Order], bool],
    excluding: str | None = None,
) -> str | None:
    """None when `quantity` lots on `side`, with the counted open orders on that side, stay
    within the account's position; else the request field to blame: `side` when the side
    does not reduce the position (or there is none), `quantity` when it is too much."""
    position = await deps.store.positions.get(account_id, symbol)
    net = position.net_quantity if position is not None else 0
    already = await open_on_side(deps, account_id, symbol, side, counted, excluding)
    if not order_rules.reduce_only_problem(side.value, quantity, net, already):
        return None
    reduces = net > 0 if side is Side.SELL else net < 0
    return "quantity" if reduces else "side"


async def under_reducing(
    deps: Deps, account: Account, instrument: Instrument, tickets: tuple[Ticket, ...]
) -> tuple[Ticket, ...]:
    """The request's tickets as placed: a simple order under a `reducing` kill switch (global,
    account or instrument) is reduce-only, so the matcher holds it to the position whatever
    else is placed at the same time. (A group is left as it is: a bracket's or OTO's entry
    is refused under `reducing`, and a group carries no reduce-only order.)"""
    head = tickets[0]
    if len(tickets) != 1 or head.order_class is not OrderClass.SIMPLE or head.reduce_only:
        return tickets
    states = (account.trading_state, instrument.trading_state)
    if TradingState.REDUCING in states or await global_state(deps.store) is TradingState.REDUCING:
        return (dataclasses.replace(head, reduce_only=True),)
    return tickets
