"""A preview lists every pre-trade check placing runs, passed and failed, with its figures:
the same rules as placing (a check a preview passes, placing passes; one it fails, placing
refuses with the same reason)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain.enums import TradingState
from shared.services import admin
from tests.support.oms import Client, Oms, Transport

ORDER = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "10", "limit_price": "100"}
ALL_CHECKS = [
    "instrument",
    "market_session",
    "time_in_force",
    "quantity_grid",
    "quantity_bounds",
    "limit_price",
    "stop_price",
    "trail",
    "display_quantity",
    "expire_at",
    "venue_rules",
    "global_trading_state",
    "account_trading_state",
    "instrument_trading_state",
    "price_collar",
    "max_order_notional",
    "order_rate",
    "max_open_orders",
    "max_daily_orders",
    "buying_power",
    "client_order_id",
]


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in body["checks"]}


async def test_an_accepted_preview_lists_every_check_passed_with_its_figures(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("t", max_order_notional=Decimal(5000))
    client = Client(functions_transport, key)
    reply = await client.call("POST", "/api/orders/preview", json=ORDER)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["accepted"] is True and body["failures"] == []
    assert [c["name"] for c in body["checks"]] == ALL_CHECKS
    assert all(c["passed"] and c["reason"] is None for c in body["checks"])
    checks = by_name(body)
    notional = checks["max_order_notional"]
    assert (notional["value"], notional["limit"], notional["field"]) == ("1000", "5000", "quantity")
    assert "1000" in notional["detail"] and "5000" in notional["detail"]
    assert checks["max_open_orders"]["value"] == "0"
    assert checks["limit_price"]["detail"] == "100 is on the tick grid of 0.01"
    assert checks["stop_price"]["detail"].startswith("none, as a limit order")
    assert checks["global_trading_state"]["value"] == "active"
    # Placing agrees: the order is accepted.
    assert (await client.place(**ORDER)).status == 202


async def test_a_refused_preview_shows_passes_beside_each_failure_and_placing_agrees(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    account, key = await oms.add_account(
        "t", max_order_notional=Decimal(100), credit_limit=Decimal(50)
    )
    client = Client(functions_transport, key)
    await admin.set_account_state(oms.container, account, TradingState.HALTED, "test")
    reply = await client.call("POST", "/api/orders/preview", json={**ORDER, "limit_price": "120"})
    body = reply.json()
    assert body["accepted"] is False
    checks = by_name(body)
    failed = {c["name"]: c["reason"] for c in body["checks"] if not c["passed"]}
    assert failed == {
        "account_trading_state": "ACCOUNT_HALTED",
        "price_collar": "PRICE_OUTSIDE_COLLAR",
        "max_order_notional": "NOTIONAL_EXCEEDS_LIMIT",
        "buying_power": "INSUFFICIENT_BUYING_POWER",
    }
    # The failures field, as before: the same reasons, in placing's order.
    assert [f["reason"] for f in body["failures"]] == [
        "ACCOUNT_HALTED",
        "PRICE_OUTSIDE_COLLAR",
        "NOTIONAL_EXCEEDS_LIMIT",
        "INSUFFICIENT_BUYING_POWER",
    ]
    assert checks["instrument_trading_state"]["passed"] is True
    assert checks["quantity_bounds"]["passed"] is True
    assert checks["price_collar"]["field"] == "limit_price"
    assert checks["price_collar"]["value"] == "120"
    notional = checks["max_order_notional"]
    assert (notional["value"], notional["limit"]) == ("1200", "100")
    power = checks["buying_power"]
    # No cash yet: its buying power is its credit limit.
    assert (power["value"], power["limit"], power["field"]) == ("1200", "50", "quantity")
    placed = await client.place(**{**ORDER, "limit_price": "120"})
    assert placed.status == 422 and placed.json()["reason"] == "ACCOUNT_HALTED"


async def test_a_request_off_the_grid_lists_each_field_it_breaks(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("t")
    client = Client(functions_transport, key)
    wrong = {**ORDER, "quantity": "0.5", "limit_price": "100.001"}
    body = (await client.call("POST", "/api/orders/preview", json=wrong)).json()
    checks = by_name(body)
    assert checks["instrument"]["passed"] is True
    assert (checks["quantity_grid"]["passed"], checks["quantity_grid"]["reason"]) == (
        False,
        "QUANTITY_OFF_LOT",
    )
    assert checks["limit_price"]["passed"] is False
    assert checks["limit_price"]["field"] == "limit_price"
    assert body["failures"][0]["reason"] == "QUANTITY_OFF_LOT"  # placing's first
    unknown = (
        await client.call("POST", "/api/orders/preview", json={**ORDER, "symbol": "NOPE"})
    ).json()
    assert [(c["name"], c["passed"], c["reason"]) for c in unknown["checks"]] == [
        ("instrument", False, "UNKNOWN_INSTRUMENT")
    ]


async def test_a_bracket_preview_counts_its_orders_and_checks_its_exits(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("t", max_open_orders=2)
    client = Client(functions_transport, key)
    bracket = {
        **ORDER,
        "order_class": "bracket",
        "take_profit": {"limit_price": "105"},
        "stop_loss": {"stop_price": "95"},
    }
    body = (await client.call("POST", "/api/orders/preview", json=bracket)).json()
    checks = by_name(body)
    assert checks["order_group"]["passed"] is True
    assert "bracket of 3 orders" in checks["order_group"]["detail"]
    # Three orders against a limit of two open orders: refused, as placing refuses it.
    assert checks["max_open_orders"]["passed"] is False
    assert checks["max_open_orders"]["reason"] == "MAX_OPEN_ORDERS_EXCEEDED"
    placed = await client.place(**bracket)
    assert placed.status == 422 and placed.json()["reason"] == "MAX_OPEN_ORDERS_EXCEEDED"
    wrong = {**bracket, "take_profit": {"limit_price": "90"}}  # below the entry: no profit
    body = (await client.call("POST", "/api/orders/preview", json=wrong)).json()
    failed = [c for c in body["checks"] if not c["passed"]]
    assert [(c["name"], c["reason"]) for c in failed] == [("order_group", "INVALID_BRACKET_PRICES")]
    assert failed[0]["field"].startswith("take_profit")


async def test_a_closed_market_shows_as_the_market_session_check(
    oms: Oms, transport: Transport
) -> None:
    admin = Client(transport, oms.admin_key)
    session = {"open": "09:30", "close": "16:00", "timezone": "America/New_York"}
    spec = {"symbol": "NYS", "tick_size": "0.01", "lot_size": "1", "reference_price": "100"}
    created = await admin.call("POST", "/api/admin/instruments", json={**spec, "session": session})
    assert created.status == 201, created.body
    _, key = await oms.add_account("t")
    client = Client(transport, key)
    saturday = datetime(2026, 3, 7, 11, tzinfo=ZoneInfo("America/New_York"))
    oms.clock.now = int(saturday.timestamp()) * 10**9
    body = (
        await client.call("POST", "/api/orders/preview", json={**ORDER, "symbol": "NYS"})
    ).json()
    checks = by_name(body)
    market = checks["market_session"]
    assert (market["passed"], market["reason"], market["field"]) == (
        False,
        "MARKET_CLOSED",
        "symbol",
    )
    assert "09:30-16:00 America/New_York" in market["detail"]
    assert checks["quantity_grid"]["passed"] is True  # the other request checks still ran
    assert [f["reason"] for f in body["failures"]] == ["MARKET_CLOSED"]
    monday = datetime(2026, 3, 9, 10, tzinfo=ZoneInfo("America/New_York"))
    oms.clock.now = int(monday.timestamp()) * 10**9
    body = (
        await client.call("POST", "/api/orders/preview", json={**ORDER, "symbol": "NYS"})
    ).json()
    assert by_name(body)["market_session"] == {
        **by_name(body)["market_session"],
        "passed": True,
        "detail": "its market is open now",
    }


async def test_a_preview_counts_what_the_accounts_open_orders_already_hold(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("t", max_open_orders=2, credit_limit=Decimal(1500))
    client = Client(functions_transport, key)
    assert (await client.place(**ORDER)).status == 202  # one open order holding 1000
    body = (await client.call("POST", "/api/orders/preview", json=ORDER)).json()
    checks = by_name(body)
    assert checks["max_open_orders"]["value"] == "1"
    assert checks["max_daily_orders"]["value"] == "1"
    power = checks["buying_power"]
    assert (power["passed"], power["reason"], power["limit"]) == (
        False,
        "INSUFFICIENT_BUYING_POWER",
        "500",
    )
    assert body["accepted"] is False
    # Placing agrees: the second order is refused for the same reason.
    placed = await client.place(**ORDER)
    assert placed.json()["reason"] == "INSUFFICIENT_BUYING_POWER", placed.body


async def test_a_preview_refuses_a_groups_exit_whose_client_order_id_is_taken(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("t")
    client = Client(functions_transport, key)
    assert (await client.place(**ORDER, client_order_id="taken-1")).status == 202
    assert (await client.place(**ORDER, client_order_id="head-tp")).status == 202
    bracket = {
        **ORDER,
        "order_class": "bracket",
        "take_profit": {"limit_price": "105"},
        "stop_loss": {"stop_price": "95", "client_order_id": "taken-1"},
    }
    for request, field in (
        (bracket, "stop_loss.client_order_id"),  # a leg's own id, taken
        (
            {**bracket, "client_order_id": "head", "stop_loss": {"stop_price": "95"}},
            "client_order_id",
        ),
    ):
        body = (await client.call("POST", "/api/orders/preview", json=request)).json()
        check = by_name(body)["client_order_id"]
        assert (check["passed"], check["reason"], check["field"]) == (
            False,
            "DUPLICATE_CLIENT_ORDER_ID",
            field,
        ), check
        assert body["accepted"] is False
        # Placing agrees.
        placed = await client.place(**request)
        assert (placed.status, placed.json()["reason"], placed.json()["field"]) == (
            409,
            "DUPLICATE_CLIENT_ORDER_ID",
            field,
        )
