"""Every validation and risk reason code is reachable over the API, each with its field,
and a refused order leaves nothing behind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from shared.domain.enums import TradingState
from shared.services import admin, instrument_admin
from tests.support.oms import Client, Oms, Reply, Transport

LIMIT = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "10", "limit_price": "100"}
Case = Callable[[Oms, Client], Awaitable[Reply]]


def order(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**LIMIT, **changes}.items() if v is not None}


async def place(client: Client, **changes: Any) -> Reply:
    return await client.place(**order(**changes))


async def after_one(client: Client, **changes: Any) -> Reply:
    first = await place(client)
    assert first.status == 202, first.body
    return await place(client, **changes)


async def with_state(oms: Oms, client: Client, scope: str, state: TradingState) -> Reply:
    if scope == "account":
        accounts = await oms.container.store.accounts.list_accounts()
        me = next(a for a in accounts if a.name == "trader")
        await admin.set_account_state(oms.container, me.account_id, state, "test")
    elif scope == "instrument":
        await instrument_admin.set_instrument_state(oms.container, "ABC", state, "test")
    else:
        await admin.set_global_trading_state(oms.container, state, "test")
    return await place(client)


CASES: dict[str, tuple[int, str | None, dict[str, Any], Case]] = {
    "UNKNOWN_INSTRUMENT": (422, "symbol", {}, lambda o, c: place(c, symbol="ZZZ")),
    "PRICE_OFF_TICK": (422, "limit_price", {}, lambda o, c: place(c, limit_price="100.001")),
    "QUANTITY_OFF_LOT": (422, "quantity", {}, lambda o, c: place(c, quantity="1.5")),
    "INVALID_QUANTITY": (422, "quantity", {}, lambda o, c: place(c, quantity="0")),
    "INVALID_PRICE": (422, "limit_price", {}, lambda o, c: place(c, limit_price="0")),
    "QUANTITY_BELOW_MIN": (422, "quantity", {}, lambda o, c: place(c, quantity="1")),
    "QUANTITY_ABOVE_MAX": (422, "quantity", {}, lambda o, c: place(c, quantity="1001")),
    "MISSING_LIMIT_PRICE": (422, "limit_price", {}, lambda o, c: place(c, limit_price=None)),
    "MISSING_STOP_PRICE": (422, "stop_price", {}, lambda o, c: place(c, type="stop_limit")),
    "UNEXPECTED_PRICE": (422, "limit_price", {}, lambda o, c: place(c, type="market")),
    "MISSING_EXPIRE_TIME": (
        422,
        "expire_at",
        {},
        lambda o, c: place(c, time_in_force="gtd"),
    ),
    "EXPIRE_TIME_IN_PAST": (
        422,
        "expire_at",
        {},
        lambda o, c: place(c, time_in_force="gtd", expire_at="2001-01-01T00:00:00Z"),
    ),
    "INVALID_SIDE": (422, "side", {}, lambda o, c: place(c, side="hold")),
    "INVALID_ORDER_TYPE": (422, "type", {}, lambda o, c: place(c, type="iceberg")),
    "INVALID_TIME_IN_FORCE": (422, "time_in_force", {}, lambda o, c: place(c, time_in_force="x")),
    "UNKNOWN_FIELD": (422, "status", {}, lambda o, c: place(c, status="filled")),
    "NOTIONAL_EXCEEDS_LIMIT": (
        422,
        "quantity",
        {"max_order_notional": 999},
        lambda o, c: place(c),
    ),
    "PRICE_OUTSIDE_COLLAR": (422, "limit_price", {}, lambda o, c: place(c, limit_price="111")),
    "INSTRUMENT_NOT_TRADING": (
        422,
        "type",
        {},
        lambda o, c: place(c, symbol="NEW", type="market", limit_price=None),
    ),
    "MAX_OPEN_ORDERS_EXCEEDED": (422, None, {"max_open_orders": 1}, lambda o, c: after_one(c)),
    "DAILY_ORDER_LIMIT_EXCEEDED": (422, None, {"max_daily_orders": 1}, lambda o, c: after_one(c)),
    "RATE_LIMIT_EXCEEDED": (
        429,
        None,
        {"burst": 1, "rate_per_second": 1},
        lambda o, c: after_one(c),
    ),
    "INSUFFICIENT_BUYING_POWER": (
        422,
        "quantity",
        {"credit_limit": 1500},
        lambda o, c: after_one(c),
    ),
    "DUPLICATE_CLIENT_ORDER_ID": (
        409,
        "client_order_id",
        {},
        lambda o, c: _duplicate(c),
    ),
    "ACCOUNT_HALTED": (
        422,
        None,
        {},
        lambda o, c: with_state(o, c, "account", TradingState.HALTED),
    ),
    "ACCOUNT_REDUCING_ONLY": (
        422,
        "side",
        {},
        lambda o, c: with_state(o, c, "account", TradingState.REDUCING),
    ),
    "INSTRUMENT_HALTED": (
        422,
        None,
        {},
        lambda o, c: with_state(o, c, "instrument", TradingState.HALTED),
    ),
    "INSTRUMENT_REDUCING_ONLY": (
        422,
        "side",
        {},
        lambda o, c: with_state(o, c, "instrument", TradingState.REDUCING),
    ),
    "TRADING_HALTED": (422, None, {}, lambda o, c: with_state(o, c, "global", TradingState.HALTED)),
    "TRADING_REDUCING_ONLY": (
        422,
        "side",
        {},
        lambda o, c: with_state(o, c, "global", TradingState.REDUCING),
    ),
}


async def _duplicate(client: Client) -> Reply:
    first = await place(client, client_order_id="dup-1")
    assert first.status == 202
    return await place(client, client_order_id="dup-1")


@pytest.mark.parametrize("reason", sorted(CASES))
async def test_each_refusal_names_its_reason_and_field(
    oms: Oms, functions_transport: Transport, reason: str
):
    status, field, limits, case = CASES[reason]
    from decimal import Decimal

    await oms.add_instrument(
        "ABC", "0.01", "1", reference_price="100", min_quantity="2", max_quantity="1000"
    )
    await oms.add_instrument("NEW", "0.01", "1")
    limits = {k: Decimal(v) if k.endswith(("notional", "limit")) else v for k, v in limits.items()}
    _, key = await oms.add_account("trader", **limits)
    client = Client(functions_transport, key)
    before = len((await client.call("GET", "/api/orders")).json()["items"])

    reply = await case(oms, client)

    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert (problem["reason"], problem["field"], problem["status"]) == (reason, field, status)
    after = (await client.call("GET", "/api/orders")).json()["items"]
    setup_orders = 1 if reason in _ONE_ORDER_FIRST else 0
    assert len(after) == before + setup_orders  # the refused order was not stored


_ONE_ORDER_FIRST = {
    "MAX_OPEN_ORDERS_EXCEEDED",
    "DAILY_ORDER_LIMIT_EXCEEDED",
    "RATE_LIMIT_EXCEEDED",
    "INSUFFICIENT_BUYING_POWER",
    "DUPLICATE_CLIENT_ORDER_ID",
}


async def test_rate_limit_answer_says_when_to_retry(oms: Oms, functions_transport: Transport):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("fast", burst=1, rate_per_second=1)
    client = Client(functions_transport, key)
    assert (await place(client)).status == 202
    refused = await place(client)
    assert (refused.status, refused.headers["retry-after"]) == (429, "1")
    oms.clock.advance(1.0)
    assert (await place(client)).status == 202


async def test_preview_reports_every_failure_and_places_nothing(
    oms: Oms, functions_transport: Transport
):
    from decimal import Decimal

    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("t", max_order_notional=Decimal(100), credit_limit=Decimal(50))
    client = Client(functions_transport, key)
    preview = await client.call("POST", "/api/orders/preview", json=order(limit_price="120"))
    assert preview.status == 200
    body = preview.json()
    assert body["accepted"] is False
    assert [f["reason"] for f in body["failures"]] == [
        "PRICE_OUTSIDE_COLLAR",
        "NOTIONAL_EXCEEDS_LIMIT",
        "INSUFFICIENT_BUYING_POWER",
    ]
    assert body["notional"] == "1200"
    ok = await client.call("POST", "/api/orders/preview", json=order(quantity="0.5"))
    assert ok.json()["failures"][0]["reason"] == "QUANTITY_OFF_LOT"
    assert (await client.call("GET", "/api/orders")).json()["items"] == []
