"""Amending one open order: cancel it, or replace it in place (it keeps its order id).

The request is stored on the order first (its pending command, status PENDING_CANCEL or
PENDING_REPLACE), then sent; the outbox sweep resends it if the send fails or the command is
lost, until the matcher answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain import group_rules, order_rules, reasons
from shared.domain.commands import CancelOrder, ReplaceOrder
from shared.domain.enums import Leg, OrderClass, OrderStatus, OrderType, Side
from shared.domain.ids import new_command_id
from shared.domain.instrument import Instrument
from shared.domain.order import (
    CancelRequested,
    ClientRequest,
    InvalidTransition,
    Order,
    ReplaceRequested,
)
from shared.ports.store_accounts import Account
from shared.ports.store_risk import LedgerChange
from shared.services import client_order_ids, codes, limits, risk
from shared.services.deps import Deps
from shared.services.dispatch import send_pending
from shared.services.errors import Conflict, InvalidRequest
from shared.services.groups import placed_with
from shared.services.orders_io import change_order, load_order
from shared.services.tickets import (
    Ticket,
    check_quantity_limits,
    instrument_for,
    lots,
    ticks,
    trail_of,
)


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """A replace: `quantity` is the new total (filled part included); None = unchanged."""

    quantity: str | None = None
    limit_price: str | None = None
    stop_price: str | None = None
    client_order_id: str | None = None
    trail_amount: str | None = None
    trail_percent: str | None = None


def _request(order: Order, request: ClientRequest, *, check_only: bool = False) -> None:
    """Apply (or with `check_only`, only check) the request; the Conflict the API answers
    when the order's transition table refuses it."""
    try:
        if check_only:
            order.check(request)
        else:
            order.apply(request)
    except InvalidTransition as error:
        raise _refused(order, error) from None


def _refused(order: Order, error: InvalidTransition) -> Conflict:
    """Why the order's transition table refuses the request, as the API says it."""
    if error.current is error.target is OrderStatus.PENDING_REPLACE:
        return Conflict(
            codes.REPLACE_PENDING,
            "an earlier replace of this order is not answered yet",
            "order_id",
        )
    return Conflict(reasons.ORDER_NOT_OPEN, f"the order is {order.status.value}", "order_id")


async def cancel_order(deps: Deps, account: Account, order_id: str) -> Order:
    """Ask the matcher to cancel an open order; the order is PENDING_CANCEL until it answers.
    A repeated cancel resends the same command."""
    now = deps.clock()
    current = await load_order(deps, account.account_id, order_id)  # 404 before anything else
    fresh = CancelOrder(new_command_id(), now, current.symbol, order_id, account.account_id)

    def request_cancel(order: Order) -> None:
        command = fresh.to_dict()
        if order.status is OrderStatus.PENDING_CANCEL and order.pending_command is not None:
            command = order.pending_command
        _request(order, CancelRequested(now, command))

    order = await change_order(
        deps, lambda: deps.store.orders.get(account.account_id, order_id), request_cancel
    )
    await send_pending(deps, account, order)
    return order


def _replacement_ticket(order: Order, instrument: Instrument, request: ReplaceRequest) -> Ticket:
    changes = (
        request.quantity,
        request.limit_price,
        request.stop_price,
        request.trail_amount,
        request.trail_percent,
    )
    if all(v is None for v in changes) and request.client_order_id in (
        None,
        order.client_order_id,
    ):
        raise InvalidRequest(codes.NOTHING_TO_CHANGE, "the replace changes nothing", None)
    # The venue applies the same rules (order_rules.replace_problem) and has the last word:
    # refusing here answers at once, with the field.
    quantity = order.quantity
    if request.quantity is not None:
        reason = order_rules.replace_leg_problem(order.leg, True)
        _refuse(reason, "a leg's quantity follows its entry's (replace the entry's)", "quantity")
        quantity = lots(instrument, "quantity", request.quantity)
        reason = order_rules.replace_quantity_problem(quantity, order.cum_qty)
        _refuse(reason, f"{order.cum_qty} lots are filled already", "quantity")
        check_quantity_limits(instrument, quantity)
    limit_price, stop_price = order.limit_price, order.stop_price
    if request.limit_price is not None:
        reason = order_rules.replace_price_problem(order.type.value)
        _refuse(reason, "the order has no limit price", "limit_price")
        limit_price = ticks(instrument, "limit_price", request.limit_price)
    trailing = order.type is OrderType.TRAILING_STOP
    if request.stop_price is not None:
        # Whether the stop has triggered only the venue knows: it refuses a late change.
        # A trailing stop's stop follows the market: its trail may change instead.
        stop_waiting = not trailing and order_rules.has_stop_price(order.type.value)
        reason = order_rules.replace_stop_problem(stop_waiting)
        _refuse(reason, "the order has no stop price to set", "stop_price")
        stop_price = ticks(instrument, "stop_price", request.stop_price)
    trail_amount, trail_cbps = _new_trail(order, instrument, request)
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
        display_qty=order.display_qty,
        post_only=order.post_only,
        reduce_only=order.reduce_only,
        trail_amount=trail_amount,
        trail_cbps=trail_cbps,
        order_class=order.order_class,
        leg=order.leg,
    )


def _new_trail(order: Order, instrument: Instrument, request: ReplaceRequest) -> tuple[int, int]:
    """A trailing stop's new trail, of the kind it has (an amount or a percentage)."""
    amount, percent = request.trail_amount, request.trail_percent
    if amount is None and percent is None:
        return order.trail_amount, order.trail_cbps
    field = "trail_amount" if amount is not None else "trail_percent"
    reason = order_rules.replace_trail_problem(order.type.value, 1, 0)  # any new trail
    _refuse(reason, "only trailing stops trail", field)
    if (amount is not None and order.trail_cbps) or (percent is not None and order.trail_amount):
        detail = "the order trails by " + ("a percentage" if order.trail_cbps else "an amount")
        raise InvalidRequest(reasons.INVALID_TRAIL, detail, field)
    return trail_of(instrument, order.type, amount, percent)


def _refuse(reason: str, detail: str, field: str) -> None:
    if reason:
        raise InvalidRequest(reason, detail, field)


def _changed(value: int | None, requested: str | None) -> int:
    """A ReplaceOrder field: the new value when the request changes it, else 0 (unchanged)."""
    if requested is None or value is None:
        return 0
    return value


async def _check_group_prices(
    deps: Deps, order: Order, ticket: Ticket, request: ReplaceRequest
) -> None:
    """A new price of a group's order keeps the group's prices in order (as placing does:
    INVALID_BRACKET_PRICES, naming the replaced field): the take-profit against the
    stop-loss's stop, and both against the entry's price while the entry has filled nothing
    (once it has, the position exists, and moving a stop-loss past the entry to keep a gain
    is the trader's call)."""
    if order.order_class is OrderClass.SIMPLE:
        return
    if request.limit_price is None and request.stop_price is None:
        return
    # The price the rule reads: a stop-loss's stop, else the limit (an entry's, or its stop).
    stop_first = order.leg == Leg.STOP_LOSS.value or request.limit_price is None
    field = "stop_price" if stop_first and request.stop_price is not None else "limit_price"
    group = {o.leg: o for o in await placed_with(deps, order)}

    def fixed_stop(o: Order, stop: int | None) -> int | None:
        return None if o.type is OrderType.TRAILING_STOP else stop  # a trail moves

    prices = {leg: (o.limit_price, fixed_stop(o, o.stop_price)) for leg, o in group.items()}
    prices[order.leg] = (ticket.limit_price, fixed_stop(order, ticket.stop_price))
    entry = group.get(Leg.ENTRY.value)
    base = 0
    if entry is not None and entry.cum_qty == 0:
        limit, stop = prices[Leg.ENTRY.value]
        base = limit or stop or 0
    take_profit = prices.get(Leg.TAKE_PROFIT.value, (None, None))[0] or 0
    stop_loss = prices.get(Leg.STOP_LOSS.value, (None, None))[1] or 0
    exit_leg = group.get(Leg.TAKE_PROFIT.value) or group.get(Leg.STOP_LOSS.value)
    if exit_leg is None:
        return
    exits_sell = exit_leg.side is Side.SELL
    if group_rules.exit_prices_problem(exits_sell, base, take_profit, stop_loss):
        where = "above" if exits_sell else "below"
        detail = (
            f"the take-profit must stay {where} the stop-loss's stop and the entry's price, "
            f"the stop-loss on the other side of the entry's price"
        )
        raise InvalidRequest(reasons.INVALID_BRACKET_PRICES, detail, field)


async def replace_order(
    deps: Deps, account: Account, order_id: str, request: ReplaceRequest
) -> Order:
    """Ask the matcher to replace an open order in place (it keeps its order id); the order
    is PENDING_REPLACE until the matcher answers."""
    now = deps.clock()
    current = await load_order(deps, account.account_id, order_id)
    _request(current, ReplaceRequested(now), check_only=True)  # before the costly checks
    instrument = await instrument_for(deps, current.symbol)
    ticket = _replacement_ticket(current, instrument, request)
    await _check_group_prices(deps, current, ticket, request)
    risk.raise_first(
        await risk.evaluate(
            deps, account, instrument, ticket, now, first_only=True, replacing=current
        )
    )
    # A replace worth more than the order holds takes the difference of the credit limit
    # with the order's write (given back if the matcher refuses the replace).
    ask = await risk.ask_for(deps, account, instrument, ticket, now, replacing=current)
    share = None
    if ask.notional > 0:
        fresh = await risk.ledger_of(deps, account, now)
        share = limits.taking(account.account_id, ask, account.risk_limits, fresh)
    new_client_id = request.client_order_id
    if new_client_id == current.client_order_id:
        new_client_id = None
    if new_client_id is not None:
        await client_order_ids.claim(deps, account.account_id, new_client_id, order_id)
    command = ReplaceOrder(
        new_command_id(),
        now,
        current.symbol,
        order_id,
        account.account_id,
        _changed(ticket.quantity, request.quantity),
        _changed(ticket.limit_price, request.limit_price),
        _changed(ticket.stop_price, request.stop_price),
        new_client_id or "",
        _changed(ticket.trail_amount, request.trail_amount),
        _changed(ticket.trail_cbps, request.trail_percent),
    )

    def request_replace(order: Order) -> LedgerChange | None:
        _request(order, ReplaceRequested(now, command.to_dict()))
        order.reserved += ask.notional
        return share

    order = await change_order(
        deps, lambda: deps.store.orders.get(account.account_id, order_id), request_replace
    )
    await send_pending(deps, account, order)
    return order
