"""Commands to the matcher's queue: a stored order's NewOrder (a group's NewOrderGroup), an
order's pending request, and the outbox mark that says the NewOrder is on its way.

A send that fails is logged, not raised: the order (and its request) is stored, so the
outbox sweep sends it later and the answer the client got stays true.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shared.domain.commands import Command, NewOrder, NewOrderGroup, command_from_dict
from shared.domain.enums import AccountType, OrderClass
from shared.domain.order import Order
from shared.domain.paper_settings import SimulatorSettings
from shared.messages import command_message
from shared.observability import stages, tracing
from shared.ports.store_accounts import Account
from shared.services.deps import Deps
from shared.services.groups import placed_with

log = logging.getLogger(__name__)


def new_order_command_id(order_id: str) -> str:
    """The NewOrder command id is derived from the order id, so the outbox sweep resends the
    very same command and the bus and the matcher drop it if the first one got through."""
    return f"{order_id}.new"


def group_command_id(head_order_id: str) -> str:
    """The NewOrderGroup's command id, derived from its head's order id (as a NewOrder's);
    its orders' are `<group command id>.<n>`, n from 1."""
    return f"{head_order_id}.group"


def new_order_command(account: Account, order: Order, command_id: str | None = None) -> NewOrder:
    """The matcher command of a stored order (the outbox sweep rebuilds the same one)."""
    sim = (order.simulator or SimulatorSettings()).command_fields()
    return NewOrder(
        command_id or new_order_command_id(order.order_id),
        order.created_at,
        order.symbol,
        order.order_id,
        order.account_id,
        order.side.value,
        order.type.value,
        order.time_in_force.value,
        order.quantity,
        order.limit_price or 0,
        order.stop_price or 0,
        order.expire_at or 0,
        account.stp.value,
        order.venue or ("paper" if account.type is AccountType.PAPER else "internal"),
        order.display_qty,
        order.post_only,
        order.reduce_only,
        order.trail_amount,
        order.trail_cbps,
        order.order_class.value,
        order.leg,
        order.parent_order_id,
        sim_slippage_cbps=sim["sim_slippage_cbps"],
        sim_impact_cbps_per_lot=sim["sim_impact_cbps_per_lot"],
        sim_latency_ns=sim["sim_latency_ns"],
        sim_fill_ratio_pct=sim["sim_fill_ratio_pct"],
        sim_fill_interval_ns=sim["sim_fill_interval_ns"],
        shadow=order.shadow is not None,
    )


def creation_command(account: Account, orders: Sequence[Order]) -> Command:
    """What places stored orders: a simple order's NewOrder, a group's NewOrderGroup (its
    orders as stored, the head first)."""
    head = orders[0]
    if head.order_class is OrderClass.SIMPLE:
        return new_order_command(account, head)
    group_id = group_command_id(head.order_id)
    return NewOrderGroup(
        group_id,
        head.created_at,
        head.symbol,
        head.order_class.value,
        tuple(
            new_order_command(account, order, f"{group_id}.{n}")
            for n, order in enumerate(orders, 1)
        ),
    )


async def send_commands(deps: Deps, commands: list[Command]) -> None:
    """Send commands to the matcher's queue (session = instrument), in order, each with
    the trace context of the request that sends it."""
    queue = deps.settings.ORDERS_QUEUE
    with stages.sending(queue, commands):
        trace = tracing.carrier()
        await deps.bus.send(queue, [command_message(command, trace) for command in commands])
    stages.commands_sent(commands)


async def dispatch(
    deps: Deps, account: Account, orders: Sequence[Order], *, mark_in_background: bool = False
) -> bool:
    """Send the orders' creation command (a simple order, or a whole group, head first) and
    clear their outbox marks; False (logged) if the bus failed.

    `mark_in_background` (a request's answer waits for no second commit): until the marks
    land, or if they are lost, a sweep or a cancel may send the command again, and the
    matcher skips the repeat by its command id."""
    head = orders[0]
    try:
        await send_commands(deps, [creation_command(account, orders)])
    except Exception:
        log.warning("order %s stored but not dispatched; the sweep will send it", head.order_id)
        return False
    keys = [(order.order_id, order.account_id) for order in orders]
    if mark_in_background:
        for key in keys:
            deps.background.add_to_batch(
                deps.store.orders.mark_all_dispatched, key, "marking orders dispatched"
            )
    else:
        await deps.store.orders.mark_all_dispatched(keys)
    for order in orders:
        order.dispatched = True
    return True


async def send_pending(deps: Deps, account: Account, order: Order) -> bool:
    """Send the order's stored pending command; False (logged) if the bus failed.

    While the order's creation command is not known to be on the bus (undispatched), it
    goes first in the same send (a group's whole): a cancel or replace must never overtake
    the order it is about, or the matcher answers UNKNOWN_ORDER and journals that answer
    for good."""
    if order.pending_command is None:
        return False
    commands = [command_from_dict(order.pending_command)]
    placed: list[Order] = []
    if not order.dispatched and order.seq == 0:
        placed = await placed_with(deps, order)
        commands.insert(0, creation_command(account, placed))
    try:
        await send_commands(deps, commands)
    except Exception:
        log.warning("order %s: request stored but not sent; the sweep will send it", order.order_id)
        return False
    if placed:
        await deps.store.orders.mark_all_dispatched([(o.order_id, o.account_id) for o in placed])
    return True
