"""Placing an order (and previewing one): the only writer of new orders.

Instrument and grid -> the order's own risk checks -> take its share of the account's
limits (rate, open orders, orders today, credit), claim the client order id and store the
order PENDING_NEW, undispatched (one atomic write on SQLite) -> send NewOrder -> mark
dispatched. A crash or a bus failure after the store write leaves the order undispatched:
the outbox sweep sends it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import reasons
from shared.domain.enums import AccountType
from shared.domain.ids import new_order_id
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.domain.shadow import ShadowRecord
from shared.observability import stages
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateClientOrderId, DuplicateOrderId
from shared.ports.store_risk import LedgerChange, RiskLedger
from shared.services import client_order_ids, codes, limits, risk
from shared.services.deps import Deps
from shared.services.dispatch import dispatch
from shared.services.errors import Conflict, ServiceError
from shared.services.orders_io import remember
from shared.services.risk import RiskFailure
from shared.services.tickets import OrderRequest, Ticket, instrument_for, to_ticket

log = logging.getLogger(__name__)
_ATTEMPTS = uuid.UUID("6f1c2a8e-4b1d-5f7a-9c3e-0a1b2c3d4e5f")  # namespace of attempt order ids


@dataclass(frozen=True, slots=True)
class Placed:
    """A placed order and its instrument as read for the checks (to render the order)."""

    order: Order
    instrument: Instrument


@stages.placing
async def place_order(
    deps: Deps, account: Account, request: OrderRequest, attempt_key: str | None = None
) -> Placed:
    """Check, store and dispatch a new order (PENDING_NEW). Raises a ServiceError naming the
    reason (and field) when any check refuses it.

    `attempt_key` (an Idempotency-Key, a bus message id) fixes the order id, so a retry
    after a failure past the store write finds the order it stored instead of placing a
    second one: it gets that order back (dispatched, if the first attempt could not), or a
    409 when the retry asks for a different order under the same key."""
    now = deps.clock()
    instrument = await instrument_for(deps, request.symbol)
    ticket = to_ticket(request, instrument, now)
    order_id: str
    if attempt_key is None:
        order_id = new_order_id()
    else:
        order_id = attempt_order_id(account, attempt_key)
        earlier = await _earlier_attempt(deps, account, order_id, ticket)
        if earlier is not None:
            return Placed(earlier, instrument)
    risk.raise_first(await risk.evaluate(deps, account, instrument, ticket, now, first_only=True))
    ask = await risk.ask_for(deps, account, instrument, ticket, now)
    fresh = await risk.ledger_of(deps, account, now)
    share = limits.taking(account.account_id, ask, account.risk_limits, fresh)
    order = await _store_new(deps, account, ticket, order_id, now, ask.notional, share)
    risk.ledger_stored(account.account_id)
    await dispatch(deps, account, order, mark_in_background=True)
    await remember(deps, order)
    return Placed(order, instrument)


def attempt_order_id(account: Account, attempt_key: str) -> str:
    """The order id every attempt under one key gets (per account)."""
    return uuid.uuid5(_ATTEMPTS, f"{account.account_id}\n{attempt_key}").hex


async def _earlier_attempt(
    deps: Deps, account: Account, order_id: str, ticket: Ticket
) -> Order | None:
    """The order an earlier attempt under the same key stored (dispatched now if it was
    not), None if there is none; Conflict when it is a different order."""
    earlier = await deps.store.orders.get(account.account_id, order_id)
    if earlier is None:
        return None
    if not _same_order(earlier, ticket):
        raise Conflict(
            codes.IDEMPOTENCY_KEY_REUSED,
            "this key was used for a different order",
            "Idempotency-Key",
        )
    if not earlier.dispatched:
        await dispatch(deps, account, earlier, mark_in_background=True)
    return earlier


def _same_order(order: Order, ticket: Ticket) -> bool:
    wanted = (ticket.symbol, ticket.side, ticket.type, ticket.quantity, ticket.time_in_force)
    have = (order.symbol, order.side, order.type, order.quantity, order.time_in_force)
    return (
        wanted == have
        and ticket.limit_price == order.limit_price
        and ticket.stop_price == order.stop_price
        and ticket.client_order_id in (None, order.client_order_id)
    )


async def _store_new(
    deps: Deps,
    account: Account,
    ticket: Ticket,
    order_id: str,
    now: int,
    reserved: Decimal,
    share: LedgerChange,
) -> Order:
    """Store the order, its claim of the client order id and its share of the account's
    limits in one write (so the id is the order's for good, and the share is taken if and
    only if the order stores); Conflict when another stored order holds the client order
    id, the first limit it would break otherwise."""
    client_order_id = ticket.client_order_id or order_id
    order = _new_order(account, ticket, order_id, client_order_id, now, reserved)
    try:
        await deps.store.orders.create(order, client_order_ids.claim_key(client_order_id), share)
        return order
    except DuplicateClientOrderId as error:
        held_by = error.existing_order_id
    except DuplicateOrderId:  # a concurrent retry of the same client order id won
        raise client_order_ids.duplicate(client_order_id, order_id) from None
    await client_order_ids.refuse_if_held(deps, account.account_id, client_order_id, held_by)
    # Claimed by an attempt that stopped before storing its order: take its order id over.
    order = _new_order(account, ticket, held_by, client_order_id, now, reserved)
    try:
        await deps.store.orders.create(order, None, share)
    except DuplicateClientOrderId as error:  # an order holds the client order id now
        raise client_order_ids.duplicate(client_order_id, error.existing_order_id) from None
    except DuplicateOrderId:
        raise client_order_ids.duplicate(client_order_id, held_by) from None
    return order


def _new_order(
    account: Account,
    ticket: Ticket,
    order_id: str,
    client_order_id: str,
    now: int,
    reserved: Decimal,
) -> Order:
    return Order(
        order_id=order_id,
        client_order_id=client_order_id,
        account_id=account.account_id,
        symbol=ticket.symbol,
        side=ticket.side,
        type=ticket.type,
        time_in_force=ticket.time_in_force,
        quantity=ticket.quantity,
        limit_price=ticket.limit_price,
        stop_price=ticket.stop_price,
        created_at=now,
        expire_at=ticket.expire_at,
        reserved=reserved,
        simulator=None if account.simulator.is_default else account.simulator,
        shadow=ShadowRecord() if account.shadow and account.type is AccountType.LIVE else None,
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """What placing the order would do: accepted, or every reason it would be refused."""

    accepted: bool
    failures: list[RiskFailure] = field(default_factory=list)
    notional: str | None = None


def _taken(
    ledger: RiskLedger, ask: limits.Ask, account: Account
) -> tuple[list[RiskFailure], list[RiskFailure]]:
    """The ledger's failures of the ask: (the rate limit's, the others')."""
    found = [
        RiskFailure(error.reason, error.detail, error.field)
        for error in limits.failures(ledger, ask, account.risk_limits)
    ]
    rate = [f for f in found if f.reason == reasons.RATE_LIMIT_EXCEEDED]
    return rate, [f for f in found if f.reason != reasons.RATE_LIMIT_EXCEEDED]


async def preview_order(deps: Deps, account: Account, request: OrderRequest) -> Preview:
    """Run every check of `place_order` and report the outcome; changes nothing."""
    now = deps.clock()
    ledger = await risk.ledger_of(deps, account, now)
    try:
        instrument = await instrument_for(deps, request.symbol)
        ticket = to_ticket(request, instrument, now)
    except ServiceError as error:
        failure = RiskFailure(error.reason, error.detail, error.field)
        nothing = limits.Ask(Decimal(0), Decimal(0), now, risk.utc_day(now)[0])
        rate, _ = _taken(ledger, nothing, account)
        return Preview(False, [*rate, failure])
    ask = await risk.ask_for(deps, account, instrument, ticket, now)
    rate, others = _taken(ledger, ask, account)
    failures = rate + await risk.evaluate(deps, account, instrument, ticket, now, first_only=False)
    failures += others
    if request.client_order_id:
        try:
            await client_order_ids.refuse_if_taken(
                deps, account.account_id, request.client_order_id
            )
        except Conflict as duplicate:
            failures.append(RiskFailure(duplicate.reason, duplicate.detail, duplicate.field))
    notional = risk.order_notional(instrument, ticket, ticket.quantity)
    return Preview(
        not failures, failures, None if notional is None else format(notional.normalize(), "f")
    )
