"""`/v2/positions`: list, get, close one (all of it, a `qty` or a `percentage`), close all.

Closing places a market order on the other side through the same placing service as any
order (so every pre-trade check applies), time in force `day` for equities and `gtc` for
crypto, as Alpaca does.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from functions.alpaca.deps import CallerDep, ContainerDep, PageReaderDep
from functions.alpaca.errors import service_error
from functions.alpaca.shapes import json_response, order_json
from shared.alpaca import codes as alpaca_codes
from shared.alpaca.ids import asset_uuid, parse_uuid
from shared.alpaca.positions import alpaca_position
from shared.alpaca.symbols import alpaca_name, find_instrument, is_crypto
from shared.bootstrap import Container
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.ports.store_accounts import Account
from shared.ports.store_positions import Position
from shared.services import balances, codes, mass_cancel, placing, queries, reducing, tickets
from shared.services.balances import ValuedPosition
from shared.services.errors import InvalidRequest, NotFound, ServiceError
from shared.services.tickets import OrderRequest

router = APIRouter(prefix="/v2", tags=["alpaca"])

SymbolOrAssetId = Annotated[str, Path(max_length=64)]


async def instrument_named(container: Container, name: str) -> Instrument | None:
    """The instrument a symbol (any Alpaca spelling) or an asset id names."""
    asset_id = parse_uuid(name)
    if asset_id is None:
        return await find_instrument(container, name)
    for instrument in await queries.list_instruments(container):
        if asset_uuid(instrument.symbol) == str(asset_id):
            return instrument
    return None


async def _open_position(
    container: Container, account_id: str, name: str
) -> tuple[Instrument, Position]:
    instrument = await instrument_named(container, name)
    position = None
    if instrument is not None:
        position = await container.store.positions.get(account_id, instrument.symbol)
    if instrument is None or position is None or position.net_quantity == 0:
        raise NotFound(alpaca_codes.POSITION_NOT_FOUND, f"position does not exist: {name}")
    return instrument, position


async def _valued(container: Container, account: Account) -> dict[str, ValuedPosition]:
    """The account's open positions with their money (as `GET /api/positions`), by symbol."""
    money = await balances.account_money(container, account, container.clock())
    return {row.position.symbol: row for row in money.positions if row.position.net_quantity}


async def _position_json(container: Container, account_id: str, row: ValuedPosition) -> object:
    """Alpaca's position, with what the account's open orders on the closing side hold."""
    position = row.position
    closing = Side.SELL if position.net_quantity > 0 else Side.BUY
    held = await reducing.open_on_side(
        container, account_id, position.symbol, closing, reducing.any_order
    )
    return alpaca_position(row, held)


@router.get("/positions")
async def list_positions(container: ContainerDep, caller: PageReaderDep) -> Response:
    rows = await _valued(container, caller.account)
    return json_response(
        [await _position_json(container, caller.account_id, row) for row in rows.values()]
    )


@router.get("/positions/{symbol_or_asset_id:path}")
async def get_position(
    symbol_or_asset_id: SymbolOrAssetId, container: ContainerDep, caller: CallerDep
) -> Response:
    instrument, _ = await _open_position(container, caller.account_id, symbol_or_asset_id)
    row = (await _valued(container, caller.account)).get(instrument.symbol)
    if row is None:  # closed meanwhile
        raise NotFound(
            alpaca_codes.POSITION_NOT_FOUND, f"position does not exist: {symbol_or_asset_id}"
        )
    return json_response(await _position_json(container, caller.account_id, row))


def _lots_to_close(
    instrument: Instrument, position: Position, qty: str | None, percentage: str | None
) -> int:
    held = abs(position.net_quantity)
    if qty is not None and percentage is not None:
        raise InvalidRequest(codes.INVALID_VALUE, "send qty or percentage, not both", "qty")
    if qty is None and percentage is None:
        return held
    field = "qty" if qty is not None else "percentage"
    try:
        number = Decimal(qty if qty is not None else str(percentage))
    except InvalidOperation:
        raise InvalidRequest(codes.INVALID_VALUE, f"{field} is not a number", field) from None
    if not number.is_finite() or number <= 0 or (percentage is not None and number > 100):
        raise InvalidRequest(codes.INVALID_VALUE, f"{field} is out of range", field)
    if percentage is not None:  # whole lots, rounded down, as Alpaca rounds down
        return int((Decimal(held) * number / 100).to_integral_value(ROUND_DOWN))
    lots = tickets.lots(instrument, "qty", qty if qty is not None else "0")
    if lots > held:
        detail = (
            f"insufficient qty available for order (requested: {qty}, "
            f"available: {instrument.quantity_str(held)})"
        )
        raise ServiceError(alpaca_codes.INSUFFICIENT_QUANTITY, detail, "qty")
    return lots


async def _close(
    container: Container,
    account: Account,
    instrument: Instrument,
    position: Position,
    lots: int,
) -> object:
    if lots <= 0:
        raise InvalidRequest(codes.INVALID_VALUE, "nothing to close at that size", "percentage")
    request = OrderRequest(
        symbol=instrument.symbol,
        side=Side.SELL if position.net_quantity > 0 else Side.BUY,
        type=OrderType.MARKET,
        quantity=instrument.quantity_str(lots),
        time_in_force=TimeInForce.GTC if is_crypto(instrument) else TimeInForce.DAY,
    )
    placed = await placing.place_order(container, account, request)
    return await order_json(container, placed.order)


@router.delete("/positions/{symbol_or_asset_id:path}")
async def close_position(
    symbol_or_asset_id: SymbolOrAssetId,
    container: ContainerDep,
    caller: CallerDep,
    qty: Annotated[str | None, Query(max_length=40)] = None,
    percentage: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    instrument, position = await _open_position(container, caller.account_id, symbol_or_asset_id)
    lots = _lots_to_close(instrument, position, qty, percentage)
    order = await _close(container, caller.account, instrument, position, lots)
    return json_response(order)


@router.delete("/positions")
async def close_all_positions(
    container: ContainerDep, caller: CallerDep, cancel_orders: bool = False
) -> Response:
    if cancel_orders:
        await mass_cancel.cancel_all(container, caller.account, None)
    instruments = queries.Instruments(container)
    results: list[dict[str, object]] = []
    for position in await queries.list_positions(container, caller.account_id):
        if position.net_quantity == 0:
            continue
        instrument = await instruments.get(position.symbol)
        symbol = alpaca_name(instrument).position_symbol
        try:
            order = await _close(
                container, caller.account, instrument, position, abs(position.net_quantity)
            )
        except ServiceError as error:
            failed = orjson.loads(service_error(error).body)
            status = int(failed["code"]) // 100_000
            results.append(
                {"symbol": symbol, "status": status, "body": {**failed, "symbol": symbol}}
            )
            continue
        assert isinstance(order, dict)
        results.append({"symbol": symbol, "status": 200, "order_id": order["id"], "body": order})
    return Response(orjson.dumps(results), 207, media_type="application/json")
