"""Between Alpaca's shapes and the services': order requests in, order objects and order
lists out."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

import orjson
from starlette.responses import Response

from functions.alpaca.bodies import SubmitOrder
from shared.alpaca import codes as alpaca_codes
from shared.alpaca.generations import Generation, Role, current
from shared.alpaca.orders import AlpacaOrder, alpaca_order
from shared.alpaca.symbols import alpaca_name, find_instrument
from shared.bootstrap import Container
from shared.domain import reasons
from shared.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services import codes, queries
from shared.services.errors import InvalidRequest
from shared.services.tickets import OrderRequest
from shared.services.views import order_view


def json_response(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _refuse(reason: str, detail: str, field: str) -> InvalidRequest:
    return InvalidRequest(reason, detail, field)


async def request_of(container: Container, body: SubmitOrder) -> OrderRequest:
    """The service's request for Alpaca's order body; InvalidRequest for what the OMS does
    not do (notional orders, extended hours, order classes, trailing stops)."""
    if body.notional is not None:
        detail = "notional orders are not supported: send qty"
        raise _refuse(alpaca_codes.NOTIONAL_NOT_SUPPORTED, detail, "notional")
    if body.extended_hours:
        detail = "extended_hours is not supported: the OMS has one session per instrument"
        raise _refuse(alpaca_codes.EXTENDED_HOURS_NOT_SUPPORTED, detail, "extended_hours")
    order_class = body.order_class or "simple"
    if order_class != "simple" or body.legs or body.take_profit or body.stop_loss:
        detail = f"order_class {order_class} is not supported yet: send simple orders"
        raise _refuse(alpaca_codes.ORDER_CLASS_NOT_SUPPORTED, detail, "order_class")
    if body.type == "trailing_stop" or body.trail_price or body.trail_percent:
        detail = "trailing_stop orders are not supported yet"
        raise _refuse(alpaca_codes.TRAILING_STOP_NOT_SUPPORTED, detail, "type")
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
        limit_price=body.limit_price,
        stop_price=body.stop_price,
        client_order_id=body.client_order_id,
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
    container: Container, order: Order, generation: Generation | None = None
) -> AlpacaOrder:
    """Alpaca's order object for `generation` of the order (default: as it is now)."""
    instrument = await queries.Instruments(container).get(order.symbol)
    gen = generation or current(order)
    wanted = asked(order, instrument) if gen.role is Role.REPLACING else None
    return alpaca_order(order_view(order, instrument), alpaca_name(instrument), gen, wanted)


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
) -> list[Order]:
    """The account's orders in the window, newest first (oldest first with `oldest_first`),
    at most `limit`. The store lists newest first: the oldest ones are found by walking the
    whole window, which costs a read of every order in it."""
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
        )
        found.extend(o for o in page.items if symbols is None or o.symbol in symbols)
        cursor = page.next_cursor
        if cursor is None or (not oldest_first and len(found) >= limit):
            break
    if oldest_first:
        return list(reversed(found))
    return list(found)[:limit]
