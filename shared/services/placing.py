"""Placing an order (and previewing one): the only writer of new orders.

Instrument, session and grid -> the venues' own order rules -> the order's own risk checks
-> take its share of the account's limits (rate, open orders, orders today, buying power),
claim the client order id and store the order PENDING_NEW, undispatched (one atomic write on
SQLite) -> send NewOrder -> mark dispatched. A contingent group (bracket, OTO, OCO) goes the
same way as a whole: one share of the limits for the group (each of its orders counts as an
open order and one of today's; only its head holds buying power: `risk.holds_power`), every
order and claim in one write, one NewOrderGroup. A crash or a bus failure after the store
write leaves the orders undispatched: the outbox sweep sends them.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import reasons
from shared.domain.enums import AccountType, OrderClass
from shared.domain.ids import new_order_id
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.domain.shadow import ShadowRecord
from shared.observability import stages
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateClientOrderId, DuplicateOrderId
from shared.ports.store_risk import LedgerChange, RiskLedger
from shared.services import client_order_ids as client_order_ids_
from shared.services import codes, limits, risk, venue_rules
from shared.services.checklist import Check, Checklist
from shared.services.deps import Deps
from shared.services.dispatch import dispatch
from shared.services.errors import Conflict, ServiceError
from shared.services.groups import client_order_ids, group_tickets, leg_order_id, placed_with
from shared.services.orders_io import remember
from shared.services.reducing import under_reducing
from shared.services.request_checks import record_refusal, request_checks
from shared.services.risk import RiskFailure
from shared.services.tickets import OrderRequest, Ticket, check_session, instrument_for
from shared.services.venues import venue_for

log = logging.getLogger(__name__)
_ATTEMPTS = uuid.UUID("6f1c2a8e-4b1d-5f7a-9c3e-0a1b2c3d4e5f")  # namespace of attempt order ids


@dataclass(frozen=True, slots=True)
class Placed:
    """A placed order (a group's head) and its instrument as read for the checks (to render
    the order); `legs`: the group's other orders (None for a simple order)."""

    order: Order
    instrument: Instrument
    legs: list[Order] | None = None

    @property
    def orders(self) -> list[Order]:
        return [self.order, *(self.legs or ())]


@stages.placing
async def place_order(
    deps: Deps, account: Account, request: OrderRequest, attempt_key: str | None = None
) -> Placed:
    """Check, store and dispatch a new order, or a contingent group as a whole (PENDING_NEW).
    Raises a ServiceError naming the reason (and field) when any check refuses it.

    `attempt_key` (an Idempotency-Key, a bus message id) fixes the order id, so a retry
    after a failure past the store write finds the order it stored instead of placing a
    second one: it gets that order back (dispatched, if the first attempt could not), or a
    409 when the retry asks for a different order under the same key."""
    now = deps.clock()
    instrument = await instrument_for(deps, request.symbol)
    check_session(instrument, now)
    tickets = await under_reducing(
        deps, account, instrument, group_tickets(request, instrument, now)
    )
    order_id: str
    if attempt_key is None:
        order_id = new_order_id()
    else:
        order_id = attempt_order_id(account, attempt_key)
        earlier = await _earlier_attempt(deps, account, order_id, tickets)
        if earlier is not None:
            return _placed(earlier, instrument)
    client_ids = client_order_ids(tickets, tickets[0].client_order_id or order_id)
    venue_rules.check(account, _new_orders(account, tickets, order_id, client_ids, now))
    routed = venue_for(account, instrument)
    # A group is checked as its head (the entry, an OCO's take-profit): the exits reduce
    # the position the entry opens (an OCO's the one held), they add no exposure of their
    # own; but each of its orders counts against the open and daily order limits.
    head = tickets[0]
    risk.raise_first(await risk.evaluate(deps, account, instrument, head, now, first_only=True))
    ask = await risk.ask_for(deps, account, instrument, head, now, orders=len(tickets))
    fresh = await risk.ledger_of(deps, account, now)
    share = limits.taking(account.account_id, ask, account.risk_limits, fresh)
    orders = await _store_new(deps, account, tickets, order_id, now, ask.notional, share, routed)
    risk.ledger_stored(account.account_id)
    await dispatch(deps, account, orders, mark_in_background=True)
    for order in orders:
        await remember(deps, order)
    return _placed(orders, instrument)


def _placed(orders: list[Order], instrument: Instrument) -> Placed:
    return Placed(orders[0], instrument, orders[1:] if len(orders) > 1 else None)


def attempt_order_id(account: Account, attempt_key: str) -> str:
    """The order id every attempt under one key gets (per account)."""
    return uuid.uuid5(_ATTEMPTS, f"{account.account_id}\n{attempt_key}").hex


async def _earlier_attempt(
    deps: Deps, account: Account, order_id: str, tickets: tuple[Ticket, ...]
) -> list[Order] | None:
    """The orders an earlier attempt under the same key stored (dispatched now if they were
    not), None if there are none; Conflict when they are different orders."""
    earlier = await deps.store.orders.get(account.account_id, order_id)
    if earlier is None:
        return None
    group = await placed_with(deps, earlier)
    same = len(group) == len(tickets) and all(
        _same_order(order, ticket) for order, ticket in zip(group, tickets, strict=False)
    )
    if not same:
        raise Conflict(
            codes.IDEMPOTENCY_KEY_REUSED,
            "this key was used for a different order",
            "Idempotency-Key",
        )
    if not all(order.dispatched for order in group):
        await dispatch(deps, account, group, mark_in_background=True)
    return group


def _same_order(order: Order, ticket: Ticket) -> bool:
    wanted = (ticket.symbol, ticket.side, ticket.type, ticket.quantity, ticket.time_in_force)
    have = (order.symbol, order.side, order.type, order.quantity, order.time_in_force)
    instructions = (
        ticket.display_qty,
        ticket.post_only,
        ticket.trail_amount,
        ticket.trail_cbps,
        ticket.order_class,
        ticket.leg,
    )
    stored = (
        order.display_qty,
        order.post_only,
        order.trail_amount,
        order.trail_cbps,
        order.order_class,
        order.leg,
    )
    # A retry is the same order whether or not a `reducing` state made it reduce-only.
    return (
        wanted == have
        and instructions == stored
        and (order.reduce_only or not ticket.reduce_only)
        and ticket.limit_price == order.limit_price
        and ticket.stop_price in (None, order.stop_price)
        and ticket.client_order_id in (None, order.client_order_id)
    )


async def _store_new(
    deps: Deps,
    account: Account,
    tickets: tuple[Ticket, ...],
    order_id: str,
    now: int,
    reserved: Decimal,
    share: LedgerChange,
    venue: str | None = None,
) -> list[Order]:
    """Store the orders, their claims of their client order ids and their share of the
    account's limits in one write (so the ids are the orders' for good, and the share is
    taken if and only if the orders store); Conflict when another stored order holds one
    of the client order ids, the first limit they would break otherwise."""
    head_client_id = tickets[0].client_order_id or order_id
    client_ids = client_order_ids(tickets, head_client_id)
    orders = _new_orders(account, tickets, order_id, client_ids, now, reserved, venue)
    try:
        await _create(deps, orders, share)
        return orders
    except DuplicateClientOrderId as error:
        clash = error
    except DuplicateOrderId:  # a concurrent retry of the same client order id won
        raise client_order_ids_.duplicate(head_client_id, order_id) from None
    field = _client_id_field(tickets, client_ids, clash.client_order_id)
    held_by = clash.existing_order_id
    await client_order_ids_.refuse_if_held(
        deps, account.account_id, clash.client_order_id, held_by, field
    )
    if clash.client_order_id != head_client_id:  # a leg's: not one this group's attempt held
        raise client_order_ids_.duplicate(clash.client_order_id, held_by, field)
    # Claimed by an attempt that stopped before storing its order: take its order id over
    # (a group's legs' ids derive from it, so the attempt's leg claims are ours too).
    orders = _new_orders(account, tickets, held_by, client_ids, now, reserved, venue)
    try:
        await _create(deps, orders, share, claims=len(orders) > 1)
    except DuplicateClientOrderId as error:  # an order holds the client order id now
        field = _client_id_field(tickets, client_ids, error.client_order_id)
        raise client_order_ids_.duplicate(
            error.client_order_id, error.existing_order_id, field
        ) from None
    except DuplicateOrderId:
        raise client_order_ids_.duplicate(head_client_id, held_by) from None
    return orders


async def _create(
    deps: Deps, orders: list[Order], share: LedgerChange, *, claims: bool = True
) -> None:
    """One write: the orders, their claims (`claims`) and the share of the limits."""
    keys = [
        client_order_ids_.claim_key(order.client_order_id) if claims else None for order in orders
    ]
    if len(orders) == 1:
        await deps.store.orders.create(orders[0], keys[0], share)
    else:
        await deps.store.orders.create_group(orders, keys, share)


def _client_id_field(tickets: tuple[Ticket, ...], client_ids: list[str], clashed: str) -> str:
    """The request field that gave the client order id `clashed`."""
    for n, (ticket, client_id) in enumerate(zip(tickets, client_ids, strict=True)):
        if client_id == clashed and n and ticket.client_order_id is not None:
            return f"{ticket.leg}.client_order_id"  # the leg names are the request's fields
    return "client_order_id"


def _new_orders(
    account: Account,
    tickets: tuple[Ticket, ...],
    head_id: str,
    client_ids: list[str],
    now: int,
    reserved: Decimal = Decimal(0),
    venue: str | None = None,
) -> list[Order]:
    """The group's orders (a simple order alone), the head holding `reserved`; routed to
    the external `venue` if named (`venues.venue_for`)."""
    orders = []
    for n, (ticket, client_id) in enumerate(zip(tickets, client_ids, strict=True)):
        order_id = head_id if n == 0 else leg_order_id(head_id, ticket.leg)
        orders.append(
            _new_order(
                account,
                ticket,
                order_id,
                client_id,
                head_id if n else "",
                now,
                reserved if n == 0 else Decimal(0),
            )
        )
        if venue:
            orders[-1].venue = f"ext:{venue}"
    if tickets[0].order_class in (OrderClass.BRACKET, OrderClass.OTO):
        for leg in orders[1:]:  # held until the entry fills: nothing of it is live yet
            leg.held_qty, leg.leaves_qty = leg.quantity, 0
    return orders


def _new_order(
    account: Account,
    ticket: Ticket,
    order_id: str,
    client_order_id: str,
    parent: str,
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
        display_qty=ticket.display_qty,
        post_only=ticket.post_only,
        reduce_only=ticket.reduce_only,
        trail_amount=ticket.trail_amount,
        trail_cbps=ticket.trail_cbps,
        order_class=ticket.order_class,
        leg=ticket.leg,
        parent_order_id=parent,
        simulator=None if account.simulator.is_default else account.simulator,
        shadow=ShadowRecord() if account.shadow and account.type is AccountType.LIVE else None,
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """What placing the order would do: accepted, or every reason it would be refused; and
    every check it ran, passed or failed, with its figures."""

    accepted: bool
    failures: list[RiskFailure] = field(default_factory=list)
    notional: str | None = None
    checks: list[Check] = field(default_factory=list)


def _taken(
    ledger: RiskLedger, ask: limits.Ask, account: Account, checklist: Checklist | None = None
) -> tuple[list[RiskFailure], list[RiskFailure]]:
    """The ledger's failures of the ask: (the rate limit's, the others')."""
    found = [
        RiskFailure(error.reason, error.detail, error.field)
        for error in limits.failures(ledger, ask, account.risk_limits, checklist)
    ]
    rate = [f for f in found if f.reason == reasons.RATE_LIMIT_EXCEEDED]
    return rate, [f for f in found if f.reason != reasons.RATE_LIMIT_EXCEEDED]


async def _taken_client_id(
    deps: Deps,
    account: Account,
    tickets: tuple[Ticket, ...],
    client_ids: list[str],
    request: OrderRequest,
) -> Conflict | None:
    """The Conflict placing would answer for the first client order id of the request's
    orders (its own, a leg's given or derived one) that another order holds, else None."""
    for n, client_id in enumerate(client_ids):
        if n == 0 and not request.client_order_id:
            continue  # the new order's own id: nobody holds it
        field = _client_id_field(tickets, client_ids, client_id)
        try:
            await client_order_ids_.refuse_if_taken(deps, account.account_id, client_id, field)
        except Conflict as duplicate:
            return duplicate
    return None


async def preview_order(deps: Deps, account: Account, request: OrderRequest) -> Preview:
    """Run every check of `place_order` and report the outcome and each check; changes
    nothing. The checks are the placing rules themselves, run with a Checklist."""
    now = deps.clock()
    ledger = await risk.stored_ledger(deps, account, now)
    checklist = Checklist()
    step = "order"  # what a refusal no check below names is recorded as
    try:
        instrument = await instrument_for(deps, request.symbol)
        request_checks(checklist, request, instrument, now)
        check_session(instrument, now)
        step = "order_group" if request.order_class is not OrderClass.SIMPLE else "order"
        tickets = await under_reducing(
            deps, account, instrument, group_tickets(request, instrument, now)
        )
        head_id = new_order_id()
        client_ids = client_order_ids(tickets, request.client_order_id or head_id)
        step = "venue_rules"
        venue_rules.check(account, _new_orders(account, tickets, head_id, client_ids, now))
    except ServiceError as error:
        record_refusal(checklist, error, step)
        failure = RiskFailure(error.reason, error.detail, error.field)
        nothing = limits.Ask(Decimal(0), Decimal(0), now, risk.utc_day(now)[0])
        rate, _ = _taken(ledger, nothing, account)
        return Preview(False, [*rate, failure], None, checklist.checks)
    if len(tickets) > 1:
        kind = request.order_class.value
        detail = f"a {kind} of {len(tickets)} orders: each exit on the grid, priced in order"
        checklist.passed("order_group", detail, field="order_class")
    checklist.passed("venue_rules", "the venue takes the order as it is")
    ticket = tickets[0]
    ask = await risk.ask_for(deps, account, instrument, ticket, now, orders=len(tickets))
    held = Checklist()
    rate, others = _taken(ledger, ask, account, held)
    failures = rate + await risk.evaluate(
        deps, account, instrument, ticket, now, first_only=False, checklist=checklist
    )
    failures += others
    checklist.extend(held)
    duplicate = await _taken_client_id(deps, account, tickets, client_ids, request)
    if duplicate is not None:
        failures.append(RiskFailure(duplicate.reason, duplicate.detail, duplicate.field))
        checklist.failed(
            "client_order_id", duplicate.reason, duplicate.detail, field=duplicate.field
        )
    elif request.client_order_id or any(t.client_order_id for t in tickets[1:]):
        checked = client_ids if request.client_order_id else client_ids[1:]
        detail = f"{', '.join(checked)} {'is' if len(checked) == 1 else 'are'} not used by"
        checklist.passed("client_order_id", f"{detail} another order", field="client_order_id")
    else:
        checklist.passed(
            "client_order_id", "none given: the order's id is used", field="client_order_id"
        )
    notional = risk.order_notional(instrument, ticket, ticket.quantity)
    shown = None if notional is None else format(notional.normalize(), "f")
    return Preview(not failures, failures, shown, checklist.checks)
