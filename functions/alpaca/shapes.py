"""Between Alpaca's shapes and the services': order requests in, order objects and order
lists out."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from decimal import Decimal
from typing import Any

import orjson
from starlette.responses import Response

from functions.alpaca.bodies import SubmitOrder, decimal_text
from shared.alpaca import codes as alpaca_codes
from shared.alpaca.generations import Generation, Role, current
from shared.alpaca.orders import AlpacaOrder, alpaca_order
from shared.alpaca.symbols import alpaca_name, find_instrument
from shared.bootstrap import Container
from shared.domain import reasons
from shared.domain.enums import OrderClass, OrderStatus, OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services import codes, queries
from shared.services.errors import InvalidRequest
from shared.services.tickets import OrderRequest, StopLossRequest, TakeProfitRequest
from shared.services.views import order_view


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _refuse(reason: str, detail: str, field: str) -> InvalidRequest:
    return InvalidRequest(reason, detail, field)


def _exit(body: dict[str, Any] | None, name: str, allowed: tuple[str, ...]) -> dict[str, str]:
    """An exit's fields (`take_profit`, `stop_loss`) as exact decimal strings; InvalidRequest
    naming the field for one the exit cannot have or a value that is not a number."""
    if body is None:
        return {}
    out: dict[str, str] = {}
    for key, value in body.items():
        field = f"{name}.{key}"
        if key not in allowed:
            raise _refuse(codes.UNKNOWN_FIELD, f"{field} is not a field of {name}", field)
        if value is None:
            continue
        if key == "client_order_id":
            if not isinstance(value, str) or not 0 < len(value) <= 128:
                raise _refuse(codes.INVALID_VALUE, f"{field} is not a client order id", field)
            out[key] = value
            continue
        try:
            text = decimal_text(value)
        except ValueError as error:
            raise _refuse(codes.INVALID_VALUE, f"{field}: {error}", field) from None
        if not isinstance(text, str):
            raise _refuse(codes.INVALID_VALUE, f"{field} is not a number", field)
        out[key] = text
    return out


_TAKE_PROFIT_FIELDS = ("limit_price", "client_order_id")
# Alpaca's stop-loss has a stop price and an optional limit price; a trail (trail_price or
# trail_percent, the OMS's extension) makes it a trailing stop.
_STOP_LOSS_FIELDS = ("stop_price", "limit_price", "trail_price", "trail_percent", "client_order_id")


def _group(
    body: SubmitOrder,
) -> tuple[OrderClass, TakeProfitRequest | None, StopLossRequest | None]:
    order_class = OrderClass(body.order_class or "simple")
    take_profit = _exit(body.take_profit, "take_profit", _TAKE_PROFIT_FIELDS)
    stop_loss = _exit(body.stop_loss, "stop_loss", _STOP_LOSS_FIELDS)
    if body.take_profit is not None and "limit_price" not in take_profit:
        raise _refuse(
            codes.MISSING_FIELD, "take_profit.limit_price is required", "take_profit.limit_price"
        )
    tp = None
    if body.take_profit is not None:
        tp = TakeProfitRequest(take_profit["limit_price"], take_profit.get("client_order_id"))
    sl = None
    if body.stop_loss is not None:
        sl = StopLossRequest(
            stop_price=stop_loss.get("stop_price"),
            limit_price=stop_loss.get("limit_price"),
            trail_amount=stop_loss.get("trail_price"),
            trail_percent=stop_loss.get("trail_percent"),
            client_order_id=stop_loss.get("client_order_id"),
        )
    return order_class, tp, sl


async def request_of(container: Container, body: SubmitOrder) -> OrderRequest:
    """The service's request for Alpaca's order body (a contingent group's too: Alpaca's
    shape is the service's); InvalidRequest for what the OMS does not do (notional orders,
    extended hours, multi-leg option orders)."""
    if body.notional is not None:
        detail = "notional orders are not supported: send qty"
        raise _refuse(alpaca_codes.NOTIONAL_NOT_SUPPORTED, detail, "notional")
    if body.extended_hours:
        detail = "extended_hours is not supported: the OMS has one session per instrument"
        raise _refuse(alpaca_codes.EXTENDED_HOURS_NOT_SUPPORTED, detail, "extended_hours")
    if body.order_class == "mleg" or body.legs:
        detail = "multi-leg (option) orders are not supported"
        raise _refuse(alpaca_codes.ORDER_CLASS_NOT_SUPPORTED, detail, "order_class")
    order_class, take_profit, stop_loss = _group(body)
    limit_price = body.limit_price
    if order_class is OrderClass.OCO and take_profit is not None and limit_price is not None:
        # Alpaca's clients may repeat the take-profit's price as the order's limit price.
        if Decimal(limit_price) != Decimal(take_profit.limit_price):
            detail = "an oco's limit_price is take_profit.limit_price"
            raise _refuse(reasons.UNEXPECTED_PRICE, detail, "limit_price")
        limit_price = None
    if body.qty is None:
        raise _refuse(codes.MISSING_FIELD, "qty is required", "qty")
    side = body.side
    if side is None and body.position_intent is not None:
        side = "buy" if body.position_intent.startswith("buy") else "sell"
    if side is None:
        raise _refuse(codes.MISSING_FIELD, "side is required", "side")
    if body.symbol is None:
        raise _refuse(codes.MISSING_FIELD, "symbol is required", "symbol")
    instrument = await find_instrument(container, body.symbol)
    if instrument is None:
        raise _refuse(reasons.UNKNOWN_INSTRUMENT, f"asset {body.symbol} not found", "symbol")
    return OrderRequest(
        symbol=instrument.symbol,
        side=Side(side),
        type=OrderType(body.type),
        quantity=body.qty,
        time_in_force=TimeInForce(body.time_in_force),
        limit_price=limit_price,
        stop_price=body.stop_price,
        client_order_id=body.client_order_id,
        trail_amount=body.trail_price,
        trail_percent=body.trail_percent,
        order_class=order_class,
        take_profit=take_profit,
        stop_loss=stop_loss,
    )


def asked(order: Order, instrument: Instrument) -> dict[str, str | None]:
    """What an unanswered replace asks for (None: unchanged), as Alpaca's decimals."""
    command = order.pending_command or {}

    def units(name: str) -> int | None:
        value = command.get(name)
        return value if isinstance(value, int) and value > 0 else None

    qty, limit_price, stop_price = units("quantity"), units("price"), units("stop_price")
    return {
        "qty": None if qty is None else instrument.quantity_str(qty),
        "limit_price": None if limit_price is None else instrument.price_str(limit_price),
        "stop_price": None if stop_price is None else instrument.price_str(stop_price),
    }


async def order_json(
    container: Container,
    order: Order,
    generation: Generation | None = None,
    *,
    nested: bool = False,
) -> AlpacaOrder:
    """Alpaca's order object for `generation` of the order (default: as it is now); with
    `nested`, a group's head carries its other orders in `legs`."""
    instrument = await queries.Instruments(container).get(order.symbol)
    gen = generation or current(order)
    wanted = asked(order, instrument) if gen.role is Role.REPLACING else None
    legs = (await queries.with_legs(container, order))[1] if nested else None
    view = order_view(order, instrument, legs)
    return alpaca_order(view, alpaca_name(instrument), gen, wanted)


async def orders_page(
    container: Container,
    account_id: str,
    *,
    statuses: Collection[OrderStatus],
    symbols: set[str] | None,
    side: Side | None,
    since: int | None,
    until: int | None,
    limit: int,
    oldest_first: bool,
    top_level: bool = False,
) -> list[Order]:
    """The account's orders in the window, newest first (oldest first with `oldest_first`),
    at most `limit`; `top_level`: no group's exit legs (they nest under their head). The
    store lists newest first: the oldest ones are found by walking the whole window, which
    costs a read of every order in it."""
    one_symbol = next(iter(symbols)) if symbols and len(symbols) == 1 else None
    found: deque[Order] = deque(maxlen=limit if oldest_first else None)
    cursor = None
    while True:
        page = await queries.list_orders(
            container,
            account_id,
            statuses=statuses,
            symbol=one_symbol,
            side=side,
            since=since,
            until=until,
            limit=MAX_PAGE_SIZE,
            cursor=cursor,
            top_level=top_level,
        )
        found.extend(o for o in page.items if symbols is None or o.symbol in symbols)
        cursor = page.next_cursor
        if cursor is None or (not oldest_first and len(found) >= limit):
            break
    if oldest_first:
        return list(reversed(found))
    return list(found)[:limit]
