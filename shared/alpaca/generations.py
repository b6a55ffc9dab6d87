"""Alpaca's replace contract on top of the OMS's replace in place.

Alpaca answers a replace with a new order id that `replaces` the old one, and reports the old
one `replaced`. The OMS keeps one order through its replaces (FIX's cancel/replace: one
order id, the filled part kept). Here each client order id an order has carried is one of
its Alpaca "generations": the first has the order id itself as its Alpaca id, each later one
`shared.alpaca.ids.replacement_id(order_id, client_order_id)`. A replace through `/v2` always
gives the order a new client order id (the one asked for, or a fresh one, as Alpaca does),
and records its new Alpaca id in the idempotency store (like client order id claims), so
both ids stay findable: the old one reports `replaced` and `replaced_by`, the new one the
order as it is now.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from shared.alpaca.ids import order_ids_of, order_uuid, replacement_id
from shared.domain.order import Order
from shared.services import client_order_ids, codes
from shared.services.deps import Deps
from shared.services.errors import NotFound, ServiceError
from shared.services.orders_io import load_order

_ALIAS = "alpaca-order-id:"


class Role(StrEnum):
    """Which of an order's Alpaca orders an id stands for."""

    CURRENT = "current"  # the order as it is now
    REPLACED = "replaced"  # an id the order had before a replace
    REPLACING = "replacing"  # the replace asked for and not answered yet
    REFUSED = "refused"  # a replace the venue refused (the order kept its id)


@dataclass(frozen=True, slots=True)
class Generation:
    """One Alpaca order of an OMS order."""

    alpaca_id: str
    client_order_id: str
    role: Role
    replaces: str | None = None
    replaced_by: str | None = None


def client_order_ids_of(order: Order) -> list[str]:
    """Every client order id the order has carried, oldest first."""
    return [*order.client_order_id_chain, order.client_order_id]


def pending_client_order_id(order: Order) -> str | None:
    """The client order id an unanswered replace gives the order, if one is on its way."""
    command = order.pending_command
    if command is None or command.get("kind") != "replace_order":
        return None
    value = command.get("client_order_id")
    return str(value) if value else None


def generation_in(
    order_id: str, carried: Sequence[str], client_order_id: str, pending: str | None = None
) -> Generation:
    """The Alpaca order that carries (or was asked to carry) `client_order_id`, for an order
    that has carried the client order ids `carried` (oldest first) and whose unanswered
    replace, if any, asks for `pending`."""
    alpaca = [
        order_uuid(order_id) if i == 0 else replacement_id(order_id, cid)
        for i, cid in enumerate(carried)
    ]
    if client_order_id in carried:
        i = list(carried).index(client_order_id)
        replaces = alpaca[i - 1] if i > 0 else None
        if i == len(carried) - 1:
            return Generation(alpaca[i], client_order_id, Role.CURRENT, replaces)
        return Generation(alpaca[i], client_order_id, Role.REPLACED, replaces, alpaca[i + 1])
    new_id = replacement_id(order_id, client_order_id)
    role = Role.REPLACING if pending == client_order_id else Role.REFUSED
    return Generation(new_id, client_order_id, role, alpaca[-1])


def generation_of(order: Order, client_order_id: str) -> Generation:
    """The Alpaca order of `order` that carries (or was asked to carry) `client_order_id`."""
    return generation_in(
        order.order_id,
        client_order_ids_of(order),
        client_order_id,
        pending_client_order_id(order),
    )


def current(order: Order) -> Generation:
    return generation_of(order, order.client_order_id)


async def record_replacement(
    deps: Deps, account_id: str, order: Order, client_order_id: str
) -> str:
    """Record the Alpaca id the replace giving `client_order_id` makes (before it is sent, so
    the id is findable from the moment the client learns it); returns it."""
    alpaca_id = replacement_id(order.order_id, client_order_id)
    body = f"{order.order_id}\n{client_order_id}".encode()
    record = await deps.store.idempotency.put_if_absent(
        account_id, _ALIAS + alpaca_id, "", 0, body, deps.clock()
    )
    if record.body != body:  # a uuid5 clash: never expected, never silently shared
        raise ServiceError(codes.INTERNAL_ERROR, "the replacement id is taken")
    return alpaca_id


def _not_found(alpaca_id: uuid.UUID) -> NotFound:
    return NotFound(codes.ORDER_NOT_FOUND, f"order not found: {alpaca_id}", "order_id")


async def resolve(deps: Deps, account_id: str, alpaca_id: uuid.UUID) -> tuple[Order, Generation]:
    """The account's order and generation an Alpaca order id stands for; NotFound else."""
    for order_id in order_ids_of(alpaca_id):
        try:
            order = await load_order(deps, account_id, order_id)
        except NotFound:
            continue
        return order, generation_of(order, client_order_ids_of(order)[0])
    record = await deps.store.idempotency.get(account_id, _ALIAS + str(alpaca_id))
    if record is None:
        raise _not_found(alpaca_id)
    order_id, client_order_id = record.body.decode().split("\n", 1)
    order = await load_order(deps, account_id, order_id)
    return order, generation_of(order, client_order_id)


async def resolve_client_order_id(
    deps: Deps, account_id: str, client_order_id: str
) -> tuple[Order, Generation]:
    """The order and generation carrying `client_order_id` now or before a replace."""
    order = await deps.store.orders.get_by_client_order_id(account_id, client_order_id)
    if order is None:
        claim = client_order_ids.claim_key(client_order_id)
        record = await deps.store.idempotency.get(account_id, claim)
        if record is not None:
            order = await deps.store.orders.get(account_id, record.body.decode())
    if order is None:
        detail = f"order not found for client_order_id {client_order_id}"
        raise NotFound(codes.ORDER_NOT_FOUND, detail, "client_order_id")
    return order, generation_of(order, client_order_id)
