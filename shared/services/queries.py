"""Read side: orders, executions, trades, the book, positions and instruments of one caller."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import orjson

from shared.domain import reasons
from shared.domain.enums import OrderStatus, Side
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.ports.cache import book_key
from shared.ports.store_errors import InvalidCursor
from shared.ports.store_executions import Execution
from shared.ports.store_paging import Page
from shared.ports.store_positions import Position
from shared.services import client_order_ids, codes
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest, NotFound
from shared.services.groups import legs_of
from shared.services.orders_io import load_order
from shared.services.states import GLOBAL_SYMBOL

_INT64_MAX = 2**63 - 1


def _clamp(ns: int | None) -> int | None:
    return None if ns is None else max(-_INT64_MAX, min(ns, _INT64_MAX))


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest(codes.INVALID_CURSOR, "the cursor is not one this API issued", "cursor")


class Instruments:
    """Instruments looked up once per request (grids never change after creation)."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._known: dict[str, Instrument] = {}

    async def get(self, symbol: str) -> Instrument:
        instrument = self._known.get(symbol)
        if instrument is None:
            found = await self._deps.store.instruments.get(symbol)
            if found is None or symbol == GLOBAL_SYMBOL:
                raise NotFound(reasons.UNKNOWN_INSTRUMENT, f"no instrument {symbol}", "symbol")
            instrument = self._known[symbol] = found
        return instrument


async def get_order(deps: Deps, account_id: str, order_id: str) -> Order:
    return await load_order(deps, account_id, order_id)


async def get_order_by_client_id(deps: Deps, account_id: str, client_order_id: str) -> Order:
    """The order carrying the client order id, or that carried it before a replace (its
    claim names the order for good, see client_order_ids)."""
    order = await deps.store.orders.get_by_client_order_id(account_id, client_order_id)
    if order is None:
        order = await client_order_ids.holder(deps, account_id, client_order_id)
    if order is None:
        detail = f"no order with client_order_id {client_order_id}"
        raise NotFound(codes.ORDER_NOT_FOUND, detail, "client_order_id")
    return order


async def with_legs(deps: Deps, order: Order) -> tuple[Order, list[Order] | None]:
    """The order and, when it heads a group, its legs (as one order's answer shows it)."""
    return order, await legs_of(deps, order)


async def nested(deps: Deps, orders: list[Order]) -> list[tuple[Order, list[Order] | None]]:
    """A page of top-level orders (`list_orders(top_level=True)`), each group's head with
    its legs (Alpaca's `nested=true`)."""
    return [await with_legs(deps, order) for order in orders]


async def list_orders(
    deps: Deps,
    account_id: str,
    *,
    statuses: Collection[OrderStatus] = (),
    symbol: str | None = None,
    side: Side | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int,
    cursor: str | None = None,
    top_level: bool = False,
) -> Page[Order]:
    """The account's orders, newest first; `top_level`: no group's legs (they nest)."""
    try:
        return await deps.store.orders.list_orders(
            account_id,
            statuses=statuses,
            symbol=symbol,
            side=side,
            since=_clamp(since),
            until=_clamp(until),
            limit=limit,
            cursor=cursor,
            top_level=top_level,
        )
    except InvalidCursor:
        raise _bad_cursor() from None


async def list_executions(
    deps: Deps,
    account_id: str,
    *,
    symbol: str | None = None,
    since: int | None = None,
    until: int | None = None,
    limit: int,
    cursor: str | None = None,
) -> Page[Execution]:
    try:
        return await deps.store.executions.list_by_account(
            account_id,
            symbol=symbol,
            since=_clamp(since),
            until=_clamp(until),
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursor:
        raise _bad_cursor() from None


async def list_trades(deps: Deps, symbol: str, limit: int) -> list[Execution]:
    await Instruments(deps).get(symbol)
    return await deps.store.executions.list_trades(symbol, limit)


@dataclass(frozen=True, slots=True)
class Book:
    """L2 levels as (price ticks, quantity lots, order count), best first."""

    symbol: str
    seq: int
    ts: int
    bids: list[tuple[int, int, int]]
    asks: list[tuple[int, int, int]]


def _levels(raw: object, depth: int) -> list[tuple[int, int, int]]:
    if not isinstance(raw, list):
        return []
    return [(int(p), int(q), int(n)) for p, q, n in raw[:depth]]


async def get_book(deps: Deps, symbol: str, depth: int) -> tuple[Instrument, Book]:
    """The latest book the matcher published to the cache (empty if it has not yet)."""
    instrument = await Instruments(deps).get(symbol)
    raw = await deps.cache.get(book_key(symbol))
    if raw is None:
        return instrument, Book(symbol, 0, 0, [], [])
    data = orjson.loads(raw)
    book = Book(
        symbol,
        int(data.get("seq", 0)),
        int(data.get("ts", 0)),
        _levels(data.get("bids"), depth),
        _levels(data.get("asks"), depth),
    )
    return instrument, book


async def list_positions(deps: Deps, account_id: str) -> list[Position]:
    return await deps.store.positions.list_positions(account_id)


async def list_instruments(deps: Deps) -> list[Instrument]:
    return [i for i in await deps.store.instruments.list_instruments() if i.symbol != "*"]
