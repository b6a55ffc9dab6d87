"""The outbox sweep: orders stored but never dispatched (a crash or a bus failure between
the store write and the send) get their NewOrder sent now. The command id derives from the
order id, so a copy that did get through is dropped by the bus or skipped by the matcher."""

from __future__ import annotations

import logging

from shared.services.deps import Deps
from shared.services.intake import dispatch

log = logging.getLogger(__name__)

GRACE_NS = 5_000_000_000
"""Leave orders younger than this to the request that is still dispatching them."""


async def resend_undispatched(deps: Deps, grace_ns: int = GRACE_NS, limit: int = 100) -> int:
    """Send the NewOrder of every undispatched order older than the grace; returns how many
    were sent."""
    sent = 0
    orders = await deps.store.orders.list_undispatched(deps.clock() - grace_ns, limit)
    for order in orders:
        account = await deps.store.accounts.get(order.account_id)
        if account is None:
            log.error("undispatched order %s has no account", order.order_id)
            continue
        if await dispatch(deps, account, order):
            sent += 1
            log.info("sweep dispatched order %s", order.order_id)
    return sent
