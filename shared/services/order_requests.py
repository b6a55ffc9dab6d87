"""Orders bots send through the `order-requests` queue: the same placing as HTTP, answered on
the account's live feed instead of in a response.

The message id is the idempotency key, so a redelivered message never places a second order.
"""

from __future__ import annotations

import hashlib

import orjson

from shared.domain.order import Order
from shared.ports.store_accounts import Account
from shared.ports.store_codec import order_from_doc, order_to_doc
from shared.services.deps import Deps
from shared.services.errors import ServiceError
from shared.services.idempotency import run_once
from shared.services.placing import place_order
from shared.services.tickets import OrderRequest

REJECTED_EVENT = "order_request_rejected"


class UnknownAccount(Exception):
    """The message names no account (a poison message: it goes to the dead-letter queue)."""


async def account_for(deps: Deps, account_id: str) -> Account:
    account = await deps.store.accounts.get(account_id) if account_id else None
    if account is None:
        raise UnknownAccount(account_id)
    return account


async def submit(
    deps: Deps, account: Account, message_id: str, request: OrderRequest, body: bytes
) -> Order | None:
    """Place the order once per message id; a refusal goes to the account's feed (the
    message is then done: a refused order is an answer, not a failure)."""

    async def run() -> tuple[int, bytes]:
        placed = await place_order(deps, account, request, attempt_key=f"bus:{message_id}")
        return 202, orjson.dumps(order_to_doc(placed.order))

    request_hash = hashlib.sha256(body).hexdigest()
    try:
        stored = await run_once(deps, account.account_id, f"bus:{message_id}", request_hash, run)
    except ServiceError as error:
        await reject(deps, account.account_id, request.client_order_id, error)
        return None
    return order_from_doc(orjson.loads(stored.body))


async def reject(
    deps: Deps, account_id: str, client_order_id: str | None, error: ServiceError
) -> None:
    """Tell the account its queued order request was refused, and why."""
    await deps.feeds.order_updated(
        account_id,
        {
            "event": REJECTED_EVENT,
            "client_order_id": client_order_id,
            "event_reason": error.reason,
            "field": error.field,
            "detail": error.detail,
        },
    )
