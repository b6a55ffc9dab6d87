"""Order intake: place (and preview), replace and cancel. The only writer of new orders.

Placing: instrument and grid -> the order's own risk checks -> take its share of the
account's limits (rate, open orders, orders today, credit), claim the client order id and
store the order PENDING_NEW, undispatched (one atomic write on SQLite) -> send NewOrder ->
mark dispatched. A crash or a bus failure after the store write leaves the order
undispatched: the sweep sends it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import reasons
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    NewOrder,
    ReplaceOrder,
    command_from_dict,
)
from shared.domain.enums import AccountType, OrderStatus
from shared.domain.ids import new_command_id, new_order_id
from shared.domain.instrument import Instrument
from shared.domain.order import CancelRequested, InvalidTransition, Order, ReplaceRequested
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateClientOrderId, DuplicateOrderId
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.ports.store_risk import LedgerChange, RiskLedger
from shared.services import codes, limits, risk
from shared.services.deps import Deps
from shared.services.errors import Conflict, InvalidRequest, ServiceError
from shared.services.orders_io import (
    change_order,
    load_order,
    new_order_command_id,
    remember,
    send_commands,
)
from shared.services.risk import RiskFailure
from shared.services.tickets import (
    OrderRequest,
    Ticket,
    check_quantity_limits,
    lots,
    ticks,
    to_ticket,
)

log = logging.getLogger(__name__)
_ATTEMPTS = uuid.UUID("6f1c2a8e-4b1d-5f7a-9c3e-0a1b2c3d4e5f")  # namespace of attempt order ids

_CLIENT_ORDER_ID = "client-order-id:"
_CANCELABLE = frozenset(
    {
        OrderStatus.PENDING_NEW,
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.SUSPENDED,
    }
)


async def instrument_for(deps: Deps, symbol: str) -> Instrument:
    instrument = await deps.store.instruments.get(symbol)
    if instrument is None or symbol == "*":
        raise InvalidRequest(reasons.UNKNOWN_INSTRUMENT, f"no instrument {symbol}", "symbol")
    return instrument


def _raise_first(failures: list[RiskFailure]) -> None:
    if failures:
        first = failures[0]
        cls = Conflict if first.reason == reasons.DUPLICATE_CLIENT_ORDER_ID else ServiceError
        raise cls(first.reason, first.detail, first.field)


async def _client_order_id_taken(deps: Deps, account_id: str, client_order_id: str) -> str | None:
    """The order id holding (or that once held) this client order id, if any."""
    record = await deps.store.idempotency.get(account_id, _CLIENT_ORDER_ID + client_order_id)
    return None if record is None else record.body.decode()


async def _reserve_client_order_id(
    deps: Deps, account_id: str, client_order_id: str, order_id: str
) -> str:
    """Claim the client order id for good (ids are unique per account forever, replaced
    ones included). Returns the order id to use: ours, or the one a crashed earlier attempt
    reserved and never stored. Conflict when an order already carries it."""
    record = await deps.store.idempotency.put_if_absent(
        account_id, _CLIENT_ORDER_ID + client_order_id, "", 0, order_id.encode(), deps.clock()
    )
    holder = record.body.decode()
    if holder != order_id and await deps.store.orders.get(account_id, holder) is not None:
        raise _duplicate(client_order_id, holder)
    return holder


def _duplicate(client_order_id: str, holder: str) -> Conflict:
    return Conflict(
        reasons.DUPLICATE_CLIENT_ORDER_ID,
        f"client_order_id {client_order_id!r} was used by order {holder}",
        "client_order_id",
    )


def new_order_command(account: Account, order: Order) -> NewOrder:
    """The matcher command of a stored order (the outbox sweep rebuilds the same one)."""
    return NewOrder(
        new_order_command_id(order.order_id),
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
        "paper" if account.type is AccountType.PAPER else "internal",
    )


async def dispatch(
    deps: Deps, account: Account, order: Order, *, mark_in_background: bool = False
) -> bool:
    """Send the order's NewOrder and clear its outbox mark; False (logged) if the bus failed:
    the order is stored, so the sweep sends it later and the client's 202 stays true.

    `mark_in_background` (a request's answer waits for no second commit): until the mark
    lands, or if it is lost, a sweep or a cancel may send the NewOrder again, and the
    matcher skips the repeat by its command id."""
    try:
        await send_commands(deps, [new_order_command(account, order)])
    except Exception:
        log.warning("order %s stored but not dispatched; the sweep will send it", order.order_id)
        return False
    if mark_in_background:
        deps.background.add_to_batch(
            deps.store.orders.mark_all_dispatched,
            (order.order_id, order.account_id),
            "marking orders dispatched",
        )
    else:
        await deps.store.orders.mark_dispatched(order.order_id, order.account_id)
    order.dispatched = True
    return True


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
        holder = await _client_order_id_taken(deps, account.account_id, request.client_order_id)
        if holder is not None and await deps.store.orders.get(account.account_id, holder):
            duplicate = _duplicate(request.client_order_id, holder)
            failures.append(RiskFailure(duplicate.reason, duplicate.detail, duplicate.field))
    notional = risk.order_notional(instrument, ticket, ticket.quantity)
    return Preview(
        not failures, failures, None if notional is None else format(notional.normalize(), "f")
    )


async def place_order(
    deps: Deps, account: Account, request: OrderRequest, attempt_key: str | None = None
) -> Order:
    """Check, store and dispatch a new order; returns it (PENDING_NEW). Raises a
    ServiceError naming the reason (and field) when any check refuses it."""
    return (await place(deps, account, request, attempt_key)).order


@dataclass(frozen=True, slots=True)
class Placed:
    """A placed order and its instrument as read for the checks (to render the order)."""

    order: Order
    instrument: Instrument


async def place(
    deps: Deps, account: Account, request: OrderRequest, attempt_key: str | None = None
) -> Placed:
    """`place_order`, also returning the instrument it was checked against.

    `attempt_key` (an Idempotency-Key, a bus message id) fixes the order id, so a retry
    after a failure past the store write finds the order it stored instead of placing a
    second one: it gets that order back (dispatched, if the first attempt could not), or a
    409 when the retry asks for a different order under the same key."""
    now = deps.clock()
    instrument = await instrument_for(deps, request.symbol)
    ticket = to_ticket(request, instrument, now)
    order_id: str = (
        new_order_id() if attempt_key is None else attempt_order_id(account, attempt_key)
    )
    if attempt_key is not None:
        earlier = await deps.store.orders.get(account.account_id, order_id)
        if earlier is not None:
            if not _same_order(earlier, ticket):
                raise Conflict(
                    codes.IDEMPOTENCY_KEY_REUSED,
                    "this key was used for a different order",
                    "Idempotency-Key",
                )
            if not earlier.dispatched:
                await dispatch(deps, account, earlier, mark_in_background=True)
            return Placed(earlier, instrument)
    _raise_first(await risk.evaluate(deps, account, instrument, ticket, now, first_only=True))
    ask = await risk.ask_for(deps, account, instrument, ticket, now)
    fresh = await risk.ledger_of(deps, account, now)
    share = limits.taking(account.account_id, ask, account.risk_limits, fresh)
    client_order_id = ticket.client_order_id or order_id
    order = _new_order(account, ticket, order_id, client_order_id, now, ask.notional)
    try:
        # The limits, the claim and the order in one write: the client order id is ours
        # for good, and the order's share of the limits is taken if and only if it stores.
        await _store_new(deps, order, _CLIENT_ORDER_ID + client_order_id, share)
    except DuplicateClientOrderId as error:
        holder = error.existing_order_id
        if await deps.store.orders.get(account.account_id, holder) is not None:
            raise _duplicate(client_order_id, holder) from None
        # Claimed by an earlier attempt that stopped before storing its order (a store
        # without transactions writes the claim first): this attempt takes its id over.
        order = _new_order(account, ticket, holder, client_order_id, now, ask.notional)
        await _store_new(deps, order, None, share)
    risk.ledger_stored(account.account_id)
    await dispatch(deps, account, order, mark_in_background=True)
    await remember(deps, order)
    log.info("order %s placed by %s", order.order_id, account.account_id)
    return Placed(order, instrument)


async def _store_new(
    deps: Deps, order: Order, claim: str | None, share: LedgerChange | None = None
) -> None:
    """Store the new order (with its claim of the client order id, unless claimed already,
    and its share of the account's limits); DuplicateClientOrderId when another order id
    holds the claim."""
    try:
        await deps.store.orders.create(order, claim, share)
    except DuplicateClientOrderId as error:
        if claim is None:  # the claim was ours: an order holds the client order id now
            raise _duplicate(order.client_order_id, error.existing_order_id) from None
        raise
    except DuplicateOrderId:  # a concurrent retry of the same client order id won
        raise _duplicate(order.client_order_id, order.order_id) from None


def attempt_order_id(account: Account, attempt_key: str) -> str:
    """The order id every attempt under one key gets (per account)."""
    return uuid.uuid5(_ATTEMPTS, f"{account.account_id}\n{attempt_key}").hex


def _same_order(order: Order, ticket: Ticket) -> bool:
    wanted = (ticket.symbol, ticket.side, ticket.type, ticket.quantity, ticket.time_in_force)
    have = (order.symbol, order.side, order.type, order.quantity, order.time_in_force)
    return (
        wanted == have
        and ticket.limit_price == order.limit_price
        and ticket.stop_price == order.stop_price
        and ticket.client_order_id in (None, order.client_order_id)
    )


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
    )


def _replace_pending() -> Conflict:
    """One replace at a time (as in FIX): a second one could be lost when the first's
    answer clears the order's pending request."""
    return Conflict(
        codes.REPLACE_PENDING, "an earlier replace of this order is not answered yet", "order_id"
    )


def _not_open(order: Order) -> Conflict:
    return Conflict(reasons.ORDER_NOT_OPEN, f"the order is {order.status.value}", "order_id")


async def cancel_order(deps: Deps, account: Account, order_id: str) -> Order:
    """Ask the matcher to cancel an open order; the order is PENDING_CANCEL until it answers.
    The CancelOrder is stored on the order first (its pending command), so the sweep resends
    it if this send fails or the command is lost."""
    now = deps.clock()
    current = await load_order(deps, account.account_id, order_id)  # 404 before anything else
    fresh = CancelOrder(new_command_id(), now, current.symbol, order_id, account.account_id)

    def request_cancel(order: Order) -> None:
        if order.status not in _CANCELABLE and order.status is not OrderStatus.PENDING_CANCEL:
            raise _not_open(order)
        command = fresh.to_dict()
        if order.status is OrderStatus.PENDING_CANCEL and order.pending_command is not None:
            command = order.pending_command  # a repeated cancel resends the same command
        try:
            order.apply(CancelRequested(now, command))
        except InvalidTransition:
            raise _not_open(order) from None

    order = await change_order(
        deps, lambda: deps.store.orders.get(account.account_id, order_id), request_cancel
    )
    await send_pending(deps, account, order)
    return order


async def send_pending(deps: Deps, account: Account, order: Order) -> bool:
    """Send the order's stored pending command; False (logged) if the bus failed: the
    request is recorded on the order, so the sweep sends it later.

    While the order's NewOrder is not known to be on the bus (undispatched), it goes first
    in the same send: a cancel or replace must never overtake the order it is about, or
    the matcher answers UNKNOWN_ORDER and journals that answer for good."""
    if order.pending_command is None:
        return False
    commands = [command_from_dict(order.pending_command)]
    if not order.dispatched and order.seq == 0:
        commands.insert(0, new_order_command(account, order))
    try:
        await send_commands(deps, commands)
    except Exception:
        log.warning("order %s: request stored but not sent; the sweep will send it", order.order_id)
        return False
    if len(commands) == 2:
        await deps.store.orders.mark_dispatched(order.order_id, order.account_id)
    return True


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """A replace: `quantity` is the new total (filled part included); None = unchanged."""

    quantity: str | None = None
    limit_price: str | None = None
    stop_price: str | None = None
    client_order_id: str | None = None


def _replacement_ticket(order: Order, instrument: Instrument, request: ReplaceRequest) -> Ticket:
    if all(v is None for v in (request.quantity, request.limit_price, request.stop_price)) and (
        request.client_order_id in (None, order.client_order_id)
    ):
        raise InvalidRequest(codes.NOTHING_TO_CHANGE, "the replace changes nothing", None)
    quantity = order.quantity
    if request.quantity is not None:
        quantity = lots(instrument, "quantity", request.quantity)
        if quantity <= order.filled_quantity:
            raise InvalidRequest(
                reasons.REPLACE_QTY_AT_OR_BELOW_FILLED,
                f"{order.filled_quantity} lots are filled already",
                "quantity",
            )
        check_quantity_limits(instrument, quantity)
    limit_price, stop_price = order.limit_price, order.stop_price
    if request.limit_price is not None:
        if order.limit_price is None:
            raise InvalidRequest(
                reasons.REPLACE_INVALID, "the order has no limit price", "limit_price"
            )
        limit_price = ticks(instrument, "limit_price", request.limit_price)
    if request.stop_price is not None:
        if order.stop_price is None:
            raise InvalidRequest(
                reasons.REPLACE_INVALID, "the order has no stop price", "stop_price"
            )
        stop_price = ticks(instrument, "stop_price", request.stop_price)
    return Ticket(
        order.symbol,
        order.side,
        order.type,
        order.time_in_force,
        quantity,
        limit_price,
        stop_price,
        order.expire_at,
        request.client_order_id,
    )


async def replace_order(
    deps: Deps, account: Account, order_id: str, request: ReplaceRequest
) -> Order:
    """Ask the matcher to replace an open order in place (it keeps its order id); the order
    is PENDING_REPLACE until the matcher answers."""
    now = deps.clock()
    current = await load_order(deps, account.account_id, order_id)
    if current.status is OrderStatus.PENDING_REPLACE:
        raise _replace_pending()
    if current.status not in _CANCELABLE:
        raise _not_open(current)
    instrument = await instrument_for(deps, current.symbol)
    ticket = _replacement_ticket(current, instrument, request)
    failures = await risk.evaluate(
        deps, account, instrument, ticket, now, first_only=True, replacing=current
    )
    _raise_first(failures)
    # A replace worth more than the order holds takes the difference of the credit limit
    # with the order's write (given back if the matcher refuses the replace).
    ask = await risk.ask_for(deps, account, instrument, ticket, now, replacing=current)
    share = None
    if ask.notional > 0:
        fresh = await risk.ledger_of(deps, account, now)
        share = limits.taking(account.account_id, ask, account.risk_limits, fresh)
    new_client_id = request.client_order_id
    if new_client_id is not None and new_client_id != current.client_order_id:
        holder = await _reserve_client_order_id(deps, account.account_id, new_client_id, order_id)
        if holder != order_id:
            raise _duplicate(new_client_id, holder)
    else:
        new_client_id = None

    command = ReplaceOrder(
        new_command_id(),
        now,
        current.symbol,
        order_id,
        account.account_id,
        ticket.quantity if request.quantity is not None else 0,
        ticket.limit_price or 0 if request.limit_price is not None else 0,
        ticket.stop_price or 0 if request.stop_price is not None else 0,
        new_client_id or "",
    )

    def request_replace(order: Order) -> LedgerChange | None:
        if order.status is OrderStatus.PENDING_REPLACE:
            raise _replace_pending()
        if order.status not in _CANCELABLE:
            raise _not_open(order)
        try:
            order.apply(ReplaceRequested(now, command.to_dict()))
        except InvalidTransition:
            raise _not_open(order) from None
        order.reserved += ask.notional
        return share

    order = await change_order(
        deps, lambda: deps.store.orders.get(account.account_id, order_id), request_replace
    )
    await send_pending(deps, account, order)
    return order


async def cancel_all(
    deps: Deps, account: Account, symbol: str | None, reason: str = reasons.CANCELED_BY_CLIENT
) -> list[Order]:
    """Cancel every open order of the account (on one instrument, or all): each becomes
    PENDING_CANCEL and each instrument with open orders gets one CancelAll command."""
    now = deps.clock()
    marked: list[Order] = []
    cursor = None
    while True:
        page = await deps.store.orders.list_orders(
            account.account_id,
            statuses=_CANCELABLE,
            symbol=symbol,
            limit=MAX_PAGE_SIZE,
            cursor=cursor,
        )
        marked.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    updated: list[Order] = []
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

    for listed in marked:

        def read(order_id: str = listed.order_id) -> Awaitable[Order | None]:
            return deps.store.orders.get(account.account_id, order_id)

        try:
            updated.append(await change_order(deps, read, request_cancel))
        except InvalidTransition:
            continue  # it finished meanwhile
    symbols = sorted({o.symbol for o in updated})
    commands = [CancelAll(f"{batch_id}.{s}", now, s, account.account_id, reason) for s in symbols]
    for command in commands:
        try:
            await send_commands(deps, [command])
        except Exception:
            log.warning(
                "%s: CancelAll stored per order but not sent; the sweep will send it",
                command.symbol,
            )
    return updated


def cancel_all_command_id(batch_id: str, order_id: str) -> str:
    """The stable id of one order's share of a cancel-all (the sweep resends it)."""
    return f"{batch_id}.{order_id}.cancel"
