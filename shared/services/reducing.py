"""Orders that may only reduce a position: `reduce_only` orders, and every order of an account
or instrument whose kill switch is `reducing`.

One order alone may reduce the position while several together flip it (three sells of the
whole position), so the account's open orders on the reducing side count too, with their
live and their held parts (a contingent leg may go live later): the new order fits when it
and they add up to at most the position. A `reduce_only` order counts the account's other
open `reduce_only` orders (the engine, which trims them as fills change the position, counts
the same ones); a reducing kill switch counts every open order on that side, since any of
them may fill. The position is the one the projector keeps from the fills.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.domain import order_rules
from shared.domain.enums import Side
from shared.domain.order import OPEN_STATUSES, Order
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services.deps import Deps


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
