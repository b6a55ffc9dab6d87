"""Client order ids: unique per account for good (replaced ones included), held by a claim
in the idempotency store whose body is the order id that holds it."""

from __future__ import annotations

from shared.domain import reasons
from shared.domain.order import Order
from shared.services.deps import Deps
from shared.services.errors import Conflict

_CLAIM = "client-order-id:"


def claim_key(client_order_id: str) -> str:
    """The idempotency key of the claim of `client_order_id` (per account)."""
    return _CLAIM + client_order_id


def duplicate(client_order_id: str, holder: str, field: str = "client_order_id") -> Conflict:
    return Conflict(
        reasons.DUPLICATE_CLIENT_ORDER_ID,
        f"client_order_id {client_order_id!r} was used by order {holder}",
        field,
    )


async def refuse_if_held(
    deps: Deps, account_id: str, client_order_id: str, holder: str, field: str = "client_order_id"
) -> None:
    """Conflict (naming `field`) when the claim's holder is a stored order. A holder that
    was never stored is an attempt that stopped between its claim and its order (a store
    without transactions writes the claim first): its claim may be taken over."""
    if await deps.store.orders.get(account_id, holder) is not None:
        raise duplicate(client_order_id, holder, field)


async def refuse_if_taken(
    deps: Deps, account_id: str, client_order_id: str, field: str = "client_order_id"
) -> None:
    """`refuse_if_held` for whichever order id holds the claim, if any (changes nothing)."""
    record = await deps.store.idempotency.get(account_id, claim_key(client_order_id))
    if record is not None:
        await refuse_if_held(deps, account_id, client_order_id, record.body.decode(), field)


async def holder(deps: Deps, account_id: str, client_order_id: str) -> Order | None:
    """The stored order that claimed the client order id (it may carry another one since a
    replace), None if none did."""
    record = await deps.store.idempotency.get(account_id, claim_key(client_order_id))
    if record is None:
        return None
    order = await deps.store.orders.get(account_id, record.body.decode())
    if order is None or client_order_id not in (
        order.client_order_id,
        *order.client_order_id_chain,
    ):
        return None  # a claim whose attempt stopped before storing its order
    return order


async def claim(deps: Deps, account_id: str, client_order_id: str, order_id: str) -> None:
    """Claim the client order id for `order_id` for good; Conflict when any other order id
    holds it (a replace takes over no stopped attempt's claim: that attempt may resume)."""
    record = await deps.store.idempotency.put_if_absent(
        account_id, claim_key(client_order_id), "", 0, order_id.encode(), deps.clock()
    )
    held_by = record.body.decode()
    if held_by != order_id:
        raise duplicate(client_order_id, held_by)
