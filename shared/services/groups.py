"""Contingent groups as the API takes them (Alpaca's shape), checked into tickets: the
group's head first, then its exits.

- `bracket`: the top-level order is the entry; `take_profit` (a limit) and `stop_loss` (a
  stop, stop-limit or trailing stop) are its exits, on the other side, for its quantity.
- `oto`: the entry and one exit.
- `oco`: two exits of a position held already, both live at once; the top-level order is
  the take-profit (`type` limit, its price in `take_profit.limit_price`, `side` the exits'
  side) and the stop-loss carries its id as `parent_order_id`.

The exits keep the entry's time in force (an IOC or FOK entry's exits are GTC: they protect
the position the entry leaves). Prices must make sense (INVALID_BRACKET_PRICES): a sell
exit's take-profit is above its stop (and a buy entry's limit); mirrored for buy exits.
The ids of a group's orders derive from its head's: `<head>-tp`, `<head>-sl`, so a retry,
the outbox sweep and the views find every order of the group from its head alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shared.domain import reasons
from shared.domain.enums import Leg, OrderClass, OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import Conflict, InvalidRequest
from shared.services.tickets import (
    OrderRequest,
    StopLossRequest,
    Ticket,
    limit_price_of,
    stop_price_of,
    ticks,
    to_ticket,
    trail_of,
)

_SUFFIX = {Leg.TAKE_PROFIT: "tp", Leg.STOP_LOSS: "sl"}
_FIELD = {Leg.TAKE_PROFIT: "take_profit", Leg.STOP_LOSS: "stop_loss"}
_ENTRY_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)
_MAX_ID = 64

GROUP_SIZE = {OrderClass.SIMPLE: 1, OrderClass.BRACKET: 3, OrderClass.OTO: 2, OrderClass.OCO: 2}
"""How many orders a group of each class has."""


def leg_order_id(head_order_id: str, leg: str) -> str:
    """The order id of a group's exit leg."""
    return f"{head_order_id}-{_SUFFIX[Leg(leg)]}"


def member_ids(head_order_id: str, order_class: OrderClass) -> list[str]:
    """The order ids a group with this head may have, the head first (an OTO has one of
    its two possible exits)."""
    if order_class is OrderClass.SIMPLE:
        return [head_order_id]
    exits = (Leg.STOP_LOSS,) if order_class is OrderClass.OCO else (Leg.TAKE_PROFIT, Leg.STOP_LOSS)
    return [head_order_id, *(leg_order_id(head_order_id, leg) for leg in exits)]


def head_of(order_id: str, parent_order_id: str) -> str:
    """The id of the group's head (the entry, or an OCO's take-profit) of one of its orders."""
    return parent_order_id or order_id


def client_order_ids(tickets: tuple[Ticket, ...], head_client_order_id: str) -> list[str]:
    """The client order id of each order of the group: a leg's own, else the head's with
    `-tp` / `-sl`. InvalidRequest when one would be too long, Conflict when two are equal."""
    ids = [head_client_order_id]
    for ticket in tickets[1:]:
        leg = Leg(ticket.leg)
        given = ticket.client_order_id
        derived = given or f"{head_client_order_id}-{_SUFFIX[leg]}"
        if len(derived) > _MAX_ID:
            raise InvalidRequest(
                codes.CLIENT_ORDER_ID_TOO_LONG,
                f"the legs' client order ids add -{_SUFFIX[leg]}: give {_FIELD[leg]}"
                f".client_order_id or a client_order_id of at most {_MAX_ID - 3} characters",
                "client_order_id",
            )
        if derived in ids:
            field = f"{_FIELD[leg]}.client_order_id" if given else "client_order_id"
            raise Conflict(
                reasons.DUPLICATE_CLIENT_ORDER_ID,
                f"client_order_id {derived!r} is used twice in the group",
                field,
            )
        ids.append(derived)
    return ids


def group_tickets(request: OrderRequest, instrument: Instrument, now: int) -> tuple[Ticket, ...]:
    """The tickets of the request's orders, the head first; InvalidRequest names the first
    field at fault (`take_profit.limit_price`, ...) and its reason."""
    if request.order_class is OrderClass.SIMPLE:
        for name in ("take_profit", "stop_loss"):
            if getattr(request, name) is not None:
                detail = f"{name} is for bracket, oto and oco orders"
                raise InvalidRequest(reasons.INVALID_ORDER_CLASS, detail, name)
        return (to_ticket(request, instrument, now),)
    if request.reduce_only:
        detail = "reduce_only is for simple orders (a group's exits reduce by themselves)"
        raise InvalidRequest(codes.REDUCE_ONLY_IN_GROUP, detail, "reduce_only")
    if request.order_class is OrderClass.OCO:
        return _oco(request, instrument, now)
    return _with_entry(request, instrument, now)


def _with_entry(request: OrderRequest, instrument: Instrument, now: int) -> tuple[Ticket, ...]:
    order_class = request.order_class
    if request.type not in _ENTRY_TYPES:
        detail = f"a {order_class.value} entry is a market, limit, stop or stop-limit order"
        raise InvalidRequest(reasons.INVALID_ORDER_CLASS, detail, "type")
    immediate = request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
    if immediate and request.type not in (OrderType.MARKET, OrderType.LIMIT):
        detail = "ioc and fok entries are market or limit orders"
        raise InvalidRequest(reasons.INVALID_TIME_IN_FORCE, detail, "time_in_force")
    exits = [leg for leg in (Leg.TAKE_PROFIT, Leg.STOP_LOSS) if _exit_request(request, leg)]
    if order_class is OrderClass.BRACKET and len(exits) < 2:
        missing = "take_profit" if Leg.TAKE_PROFIT not in exits else "stop_loss"
        raise InvalidRequest(
            reasons.INVALID_LEG, "a bracket needs take_profit and stop_loss", missing
        )
    if order_class is OrderClass.OTO and len(exits) != 1:
        field = "take_profit" if not exits else "stop_loss"
        raise InvalidRequest(
            reasons.INVALID_LEG, "an oto order has one exit: take_profit or stop_loss", field
        )
    entry = replace(
        to_ticket(request, instrument, now), order_class=order_class, leg=Leg.ENTRY.value
    )
    exit_tif = TimeInForce.GTC if immediate else entry.time_in_force
    exit_side = Side.SELL if entry.side is Side.BUY else Side.BUY
    legs = tuple(
        _exit_ticket(request, instrument, entry, leg, exit_side, exit_tif) for leg in exits
    )
    _check_prices(exit_side, entry.limit_price, legs)
    return (entry, *legs)


def _oco(request: OrderRequest, instrument: Instrument, now: int) -> tuple[Ticket, ...]:
    if request.type is not OrderType.LIMIT:
        detail = "an oco order is a limit take-profit (type limit) and a stop-loss"
        raise InvalidRequest(reasons.INVALID_ORDER_CLASS, detail, "type")
    for leg in (Leg.TAKE_PROFIT, Leg.STOP_LOSS):
        if _exit_request(request, leg) is None:
            detail = "an oco order needs take_profit and stop_loss"
            raise InvalidRequest(reasons.INVALID_LEG, detail, _FIELD[leg])
    take_profit = request.take_profit
    assert take_profit is not None
    if take_profit.client_order_id is not None:
        detail = "an oco's take-profit is the order itself: use client_order_id"
        raise InvalidRequest(reasons.INVALID_LEG, detail, "take_profit.client_order_id")
    if request.limit_price is not None:
        detail = "an oco's limit price is take_profit.limit_price"
        raise InvalidRequest(reasons.UNEXPECTED_PRICE, detail, "limit_price")
    if request.post_only:
        detail = "an oco's exits are never post-only (one must be able to fill)"
        raise InvalidRequest(reasons.INVALID_LEG, detail, "post_only")
    if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        detail = "an oco's exits rest until one of them fills: day, gtc or gtd"
        raise InvalidRequest(reasons.INVALID_TIME_IN_FORCE, detail, "time_in_force")
    limit = ticks(instrument, "take_profit.limit_price", take_profit.limit_price)
    head = replace(
        to_ticket(replace(request, limit_price=take_profit.limit_price), instrument, now),
        limit_price=limit,
        order_class=OrderClass.OCO,
        leg=Leg.TAKE_PROFIT.value,
    )
    stop = _exit_ticket(request, instrument, head, Leg.STOP_LOSS, head.side, head.time_in_force)
    _check_prices(head.side, None, (head, stop))
    return (head, stop)


def _exit_request(request: OrderRequest, leg: Leg) -> object | None:
    return request.take_profit if leg is Leg.TAKE_PROFIT else request.stop_loss


def _exit_ticket(
    request: OrderRequest,
    instrument: Instrument,
    head: Ticket,
    leg: Leg,
    side: Side,
    time_in_force: TimeInForce,
) -> Ticket:
    prefix = f"{_FIELD[leg]}."
    limit_price: int | None
    stop_price: int | None = None
    trail_amount = trail_cbps = 0
    if leg is Leg.TAKE_PROFIT:
        assert request.take_profit is not None
        order_type = OrderType.LIMIT
        limit_price = ticks(instrument, f"{prefix}limit_price", request.take_profit.limit_price)
        client_order_id = request.take_profit.client_order_id
    else:
        assert request.stop_loss is not None
        stop = request.stop_loss
        order_type = _stop_loss_type(stop)
        limit_price = limit_price_of(
            instrument, order_type, stop.limit_price, f"{prefix}limit_price"
        )
        stop_price = stop_price_of(instrument, order_type, stop.stop_price, f"{prefix}stop_price")
        trail_amount, trail_cbps = trail_of(
            instrument, order_type, stop.trail_amount, stop.trail_percent, prefix
        )
        client_order_id = stop.client_order_id
    return Ticket(
        symbol=head.symbol,
        side=side,
        type=order_type,
        time_in_force=time_in_force,
        quantity=head.quantity,
        limit_price=limit_price,
        stop_price=stop_price,
        expire_at=head.expire_at,
        client_order_id=client_order_id,
        trail_amount=trail_amount,
        trail_cbps=trail_cbps,
        order_class=head.order_class,
        leg=leg.value,
    )


def _stop_loss_type(stop: StopLossRequest) -> OrderType:
    trails = stop.trail_amount is not None or stop.trail_percent is not None
    if trails and stop.stop_price is not None:
        detail = "a stop-loss has a stop_price or a trail, not both"
        raise InvalidRequest(reasons.INVALID_TRAIL, detail, "stop_loss.stop_price")
    if trails:
        return OrderType.TRAILING_STOP
    return OrderType.STOP if stop.limit_price is None else OrderType.STOP_LIMIT


def _check_prices(exit_side: Side, entry_limit: int | None, legs: tuple[Ticket, ...]) -> None:
    """A sell exit's take-profit is above its stop-loss's stop and the (buy) entry's limit;
    a buy exit's below them."""
    take_profit = next((t for t in legs if t.leg == Leg.TAKE_PROFIT.value), None)
    stop_loss = next((t for t in legs if t.leg == Leg.STOP_LOSS.value), None)
    if take_profit is None or take_profit.limit_price is None:
        return
    bounds = [p for p in (entry_limit, stop_loss.stop_price if stop_loss else None) if p]
    above = exit_side is Side.SELL
    for bound in bounds:
        if (take_profit.limit_price <= bound) if above else (take_profit.limit_price >= bound):
            where = "above" if above else "below"
            detail = f"the take-profit is {where} the entry's limit and the stop-loss's stop"
            raise InvalidRequest(reasons.INVALID_BRACKET_PRICES, detail, "take_profit.limit_price")


async def placed_with(deps: Deps, order: Order) -> list[Order]:
    """The orders placed together with `order` (itself alone for a simple order), the
    group's head first; an incompletely stored group is completed (store.get_group)."""
    if order.order_class is OrderClass.SIMPLE:
        return [order]
    head = head_of(order.order_id, order.parent_order_id)
    return await deps.store.orders.get_group(order.account_id, member_ids(head, order.order_class))


def complete(orders: Sequence[Order]) -> bool:
    """Whether a group has all its orders (a simple order always has)."""
    return len(orders) == GROUP_SIZE[orders[0].order_class] if orders else False


def is_parent(order: Order) -> bool:
    """Whether the order heads a group (a bracket's or OTO's entry, an OCO's take-profit)."""
    return order.order_class is not OrderClass.SIMPLE and not order.parent_order_id


async def legs_of(deps: Deps, order: Order) -> list[Order] | None:
    """A group's head's other orders (its legs, as the views nest them); None for any other
    order."""
    if not is_parent(order):
        return None
    return (await placed_with(deps, order))[1:]
