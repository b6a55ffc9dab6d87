"""Cancel every open order of an account, on one instrument or all (FIX's order mass cancel):
each order becomes PENDING_CANCEL with its own CancelOrder stored, and each instrument with
open orders gets one CancelAll command."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from shared.domain import reasons
from shared.domain.commands import CancelAll, CancelOrder
from shared.domain.ids import new_command_id
from shared.domain.order import CANCELABLE_STATUSES, CancelRequested, InvalidTransition, Order
from shared.ports.store_accounts import Account
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services.deps import Deps
from shared.services.dispatch import send_commands
from shared.services.orders_io import change_order

log = logging.getLogger(__name__)


async def cancel_all(
    deps: Deps, account: Account, symbol: str | None, reason: str = reasons.CANCELED_BY_CLIENT
) -> list[Order]:
    """Cancel every open order of the account (on one instrument, or all); returns the
    orders now PENDING_CANCEL. A CancelAll the bus refuses is resent by the sweep (each
    order keeps its own CancelOrder)."""
    now = deps.clock()
    batch_id = new_command_id()

    def request_cancel(order: Order) -> None:
        # Each order records its own CancelOrder (id derived from the CancelAll's), not the
        # CancelAll: a resent CancelAll would also cancel orders placed after it, and one
        # that reached the matcher before the order did would be skipped as journaled.
        own = CancelOrder(
            cancel_all_command_id(batch_id, order.order_id),
            now,
            order.symbol,
            order.order_id,
            account.account_id,
        )
        order.apply(CancelRequested(now, own.to_dict()))

    updated: list[Order] = []
    for listed in await _open_orders(deps, account, symbol):

        def read(order_id: str = listed.order_id) -> Awaitable[Order | None]:
            return deps.store.orders.get(account.account_id, order_id)

        try:
            updated.append(await change_order(deps, read, request_cancel))
        except InvalidTransition:
            continue  # it finished meanwhile
    symbols = sorted({o.symbol for o in updated})
    for s in symbols:
        command = CancelAll(f"{batch_id}.{s}", now, s, account.account_id, reason)
        try:
            await send_commands(deps, [command])
        except Exception:
            log.warning("%s: CancelAll stored per order but not sent; the sweep will send it", s)
    return updated


async def _open_orders(deps: Deps, account: Account, symbol: str | None) -> list[Order]:
    found: list[Order] = []
    cursor = None
    while True:
        page = await deps.store.orders.list_orders(
            account.account_id,
            statuses=CANCELABLE_STATUSES,
            symbol=symbol,
            limit=MAX_PAGE_SIZE,
            cursor=cursor,
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def cancel_all_command_id(batch_id: str, order_id: str) -> str:
    """The stable id of one order's share of a cancel-all (the sweep resends it)."""
    return f"{batch_id}.{order_id}.cancel"
