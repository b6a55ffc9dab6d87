"""The outbox sweep: commands the matcher should have and may not have, sent again.

- Undispatched orders (a crash or a bus failure between the store write and the send) get
  their NewOrder sent (an order of a contingent group: the whole group's NewOrderGroup), and
  are marked dispatched.
- Instruments whose stored trading state may not have reached the matcher (a send that
  failed after the state was stored) get it sent (`shared.services.states`).
- Published events the projector never applied (their batch was dead-lettered, and no
  later batch of the instrument came to fill the gap) are applied from the journal, once
  older than the grace (`projector.fill_projection_gaps`).
- Pending orders (pending_new, pending_cancel, pending_replace) that have waited longer than
  the grace get their pending command sent again: a pending_new order its NewOrder (rebuilt
  from the order), the others the request command stored on the order, preceded by the
  NewOrder while the order has heard nothing from the matcher (seq 0), so a cancel never
  reaches the matcher before the order it cancels.

Every command goes out with its first command id (the NewOrder's derives from the order id),
so a copy that did get through is dropped by the bus's duplicate detection or skipped by the
matcher, which finds it in its journal. A stale request can never be resent: the order
forgets its pending command as soon as the matcher answers it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.domain.commands import CancelOrder, Command, NewOrderGroup, command_from_dict
from shared.domain.enums import OrderClass, OrderStatus
from shared.domain.order import Order
from shared.ports.store_accounts import Account
from shared.services.deps import Deps
from shared.services.dispatch import creation_command, dispatch, send_commands
from shared.services.groups import complete, head_of, placed_with
from shared.services.projector import fill_projection_gaps
from shared.services.states import resend_pending_states

log = logging.getLogger(__name__)
SIMPLE = OrderClass.SIMPLE

GRACE_NS = 5_000_000_000
"""Leave orders younger than this to the request that is still dispatching them."""


@dataclass(frozen=True, slots=True)
class SweepReport:
    dispatched: int  # undispatched orders whose NewOrder was sent
    resent: int  # pending orders whose command(s) were sent again
    states: int = 0  # instruments whose stored trading state was sent again
    projected: int = 0  # journal entries applied that the projector had missed


async def resend_undispatched(deps: Deps, grace_ns: int = GRACE_NS, limit: int = 100) -> int:
    """Send the NewOrder of every undispatched order older than the grace; returns how many
    were sent."""
    return len(await _dispatch_undispatched(deps, grace_ns, limit))


async def _dispatch_undispatched(deps: Deps, grace_ns: int, limit: int) -> set[str]:
    sent: set[str] = set()
    orders = await deps.store.orders.list_undispatched(deps.clock() - grace_ns, limit)
    for order in orders:
        if order.order_id in sent:
            continue  # sent with its group
        account = await deps.store.accounts.get(order.account_id)
        if account is None:
            log.error("undispatched order %s has no account", order.order_id)
            continue
        placed = await placed_with(deps, order)
        if not complete(placed):
            log.error("order %s: its group is incomplete and is not sent", order.order_id)
            continue
        if await dispatch(deps, account, placed):
            sent.update(o.order_id for o in placed)
            log.info("sweep dispatched order %s", placed[0].order_id)
    return sent


async def pending_commands(deps: Deps, account: Account, order: Order) -> list[Command]:
    """What to send again for a pending order, in order (empty: nothing can be rebuilt).
    An order of a group is placed again with its whole group."""
    if order.status is OrderStatus.PENDING_NEW:
        return [creation_command(account, await placed_with(deps, order))]
    commands: list[Command] = []
    if order.seq == 0:  # the matcher may never have got the order: it goes first
        commands.append(creation_command(account, await placed_with(deps, order)))
    if order.pending_command is not None:
        commands.append(command_from_dict(order.pending_command))
    elif order.status is OrderStatus.PENDING_CANCEL:
        # Stored by a version without the pending command: a cancel can be rebuilt
        # (one more cancel of a canceled order is refused by the matcher and changes nothing).
        commands.append(
            CancelOrder(
                f"{order.order_id}.cancel.{order.updated_at}",
                order.updated_at,
                order.symbol,
                order.order_id,
                order.account_id,
            )
        )
    else:
        log.error("order %s is %s with no pending command", order.order_id, order.status.value)
    return commands


async def resend_pending(
    deps: Deps, grace_ns: int = GRACE_NS, page: int = 100, skip: frozenset[str] = frozenset()
) -> int:
    """Send again the pending command of every pending order not updated within the grace
    (oldest first, `page` orders per read); returns for how many orders commands were sent.
    Orders in `skip` are left alone (their NewOrder was just sent)."""
    sent = 0
    older_than = deps.clock() - grace_ns
    accounts: dict[str, Account | None] = {}
    groups: set[str] = set()  # heads of the groups placed again in this sweep
    after: tuple[int, str] | None = None
    while orders := await deps.store.orders.list_pending(older_than, page, after):
        after = (orders[-1].updated_at, orders[-1].order_id)
        for order in orders:
            if order.order_id in skip:
                continue
            if order.status is OrderStatus.PENDING_NEW and order.order_class is not SIMPLE:
                head = head_of(order.order_id, order.parent_order_id)
                if head in groups:
                    continue  # its group's NewOrderGroup went out with another of its orders
                groups.add(head)
            if order.account_id not in accounts:
                accounts[order.account_id] = await deps.store.accounts.get(order.account_id)
            account = accounts[order.account_id]
            if account is None:
                log.error("pending order %s has no account", order.order_id)
                continue
            if await _resend(deps, account, order):
                sent += 1
    return sent


async def _resend(deps: Deps, account: Account, order: Order) -> bool:
    commands = await pending_commands(deps, account, order)
    if not commands:
        return False
    try:
        await send_commands(deps, commands)
    except Exception:
        log.warning("sweep could not resend for order %s; next time", order.order_id)
        return False
    if not order.dispatched and order.seq == 0:
        first = commands[0]
        placed = first.orders if isinstance(first, NewOrderGroup) else (order,)
        await deps.store.orders.mark_all_dispatched([(o.order_id, o.account_id) for o in placed])
    log.info(
        "sweep resent %s for %s order %s",
        ", ".join(c.KIND for c in commands),
        order.status.value,
        order.order_id,
    )
    return True


async def sweep_outbox(deps: Deps, grace_ns: int = GRACE_NS, limit: int = 100) -> SweepReport:
    """One sweep: undispatched NewOrders first, then the pending commands, then the
    instruments' trading states that may not have reached the matcher."""
    dispatched = await _dispatch_undispatched(deps, grace_ns, limit)
    resent = await resend_pending(deps, grace_ns, limit, skip=frozenset(dispatched))
    states = await resend_pending_states(deps)
    projected = await fill_projection_gaps(deps, grace_ns)
    return SweepReport(len(dispatched), resent, states, projected)
