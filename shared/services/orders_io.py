"""Order reads and writes shared by the services: the read-through cache around the store and
version-checked updates with retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson

from shared.domain.order import Order
from shared.ports.cache import order_key
from shared.ports.store_codec import order_from_doc, order_to_doc
from shared.ports.store_errors import VersionConflict
from shared.ports.store_risk import LedgerChange
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import NotFound

ORDER_TTL_SECONDS = 300.0
_MAX_ATTEMPTS = 50


async def remember(deps: Deps, order: Order) -> None:
    """Put the order's current version in the cache (an older version never wins)."""
    body = orjson.dumps(order_to_doc(order))
    key = order_key(order.account_id, order.order_id)
    await deps.cache.set_versioned(key, order.version, body, ORDER_TTL_SECONDS)


async def load_order(deps: Deps, account_id: str, order_id: str) -> Order:
    """The account's order (cache first); NotFound for a missing or another account's order."""
    cached = await deps.cache.get_versioned(order_key(account_id, order_id))
    if cached is not None:
        return order_from_doc(orjson.loads(cached[1]))
    order = await deps.store.orders.get(account_id, order_id)
    if order is None:
        raise NotFound(codes.ORDER_NOT_FOUND, f"no order {order_id}", "order_id")
    await remember(deps, order)
    return order


async def change_order(
    deps: Deps,
    read: Callable[[], Awaitable[Order | None]],
    change: Callable[[Order], LedgerChange | None],
) -> Order:
    """Read, change and write the order, again from a fresh read when another writer got
    there first. `change` raises to give up (the order is then left as it was); it may
    return a change of the account's risk ledger to make with the write."""
    for _ in range(_MAX_ATTEMPTS):
        order = await read()
        if order is None:
            raise NotFound(codes.ORDER_NOT_FOUND, "the order does not exist", "order_id")
        ledger = change(order)
        try:
            await deps.store.orders.update(order, order.version, ledger)
        except VersionConflict:
            continue
        await remember(deps, order)
        return order
    raise VersionConflict("order", -1, -1)
