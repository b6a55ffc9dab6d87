"""The Alpaca API over raw HTTP, where a client less forgiving than alpaca-py would notice:
every error has Alpaca's body (the framework's 401, 404, 405 and 422 included), nothing
redirects, and numbers are read exactly whether they arrive as JSON numbers or strings."""

from __future__ import annotations

import pytest

from tests.alpaca.conftest import AlpacaOms


def assert_alpaca_error(response: object, status: int) -> dict[str, object]:
    assert getattr(response, "status_code", None) == status, getattr(response, "text", "")
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == status * 100_000 + 10_000
    assert isinstance(body["message"], str) and body["message"]
    return body


async def test_missing_or_wrong_keys_are_401(oms: AlpacaOms):
    bot = await oms.bot()
    other = await oms.bot()
    wrong_id = {**bot.headers, "APCA-API-KEY-ID": other.account_id}
    wrong_secret = {**bot.headers, "APCA-API-SECRET-KEY": "not-a-key"}

    for headers in ({}, wrong_id, wrong_secret):
        response = await oms.http.get("/v2/account", headers=headers)
        assert_alpaca_error(response, 401)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/no-such-thing", 404),
        ("GET", "/v2/orders/", 404),  # no redirect to /v2/orders: alpaca-py refuses them
        ("GET", "/v2/orders/not-a-uuid", 404),
        ("GET", "/v2/orders/6f1c2a8e-4b1d-5f7a-9c3e-0a1b2c3d4e5f", 404),
        ("PUT", "/v2/orders", 405),
        ("GET", "/v2/orders?limit=0", 422),
        ("GET", "/v2/orders?status=sometimes", 422),
        ("GET", "/v2/stocks/bars?symbols=AAPL&timeframe=7Fortnights", 422),
        ("GET", "/v1beta3/crypto/us/nothing", 404),
    ],
)
async def test_framework_errors_have_alpacas_body(
    oms: AlpacaOms, method: str, path: str, status: int
):
    bot = await oms.bot()

    response = await oms.http.request(method, path, headers=bot.headers)

    assert_alpaca_error(response, status)


async def test_bodies_that_are_not_orders_are_refused_by_name(oms: AlpacaOms):
    bot = await oms.bot()
    order = {"symbol": "AAPL", "qty": 1, "side": "buy", "type": "market", "time_in_force": "day"}

    not_json = await oms.http.post("/v2/orders", content=b"{oops", headers=bot.headers)
    unknown = await oms.http.post("/v2/orders", json={**order, "qtty": 1}, headers=bot.headers)
    too_big = await oms.http.post(
        "/v2/orders", content=b"{" + b" " * 70_000 + b"}", headers=bot.headers
    )
    float_noise = await oms.http.post(
        "/v2/orders",
        content=b'{"symbol":"BTC/USD","qty":0.30000000000000004,"side":"buy",'
        b'"type":"market","time_in_force":"gtc"}',
        headers=bot.headers,
    )

    assert_alpaca_error(not_json, 400)
    assert assert_alpaca_error(unknown, 422)["field"] == "qtty"
    assert_alpaca_error(too_big, 413)
    # Read as the decimal its text spells, not rounded to the lot size: off the grid.
    assert assert_alpaca_error(float_noise, 422)["reason"] == "QUANTITY_OFF_LOT"


async def test_numbers_arrive_as_json_numbers_or_strings_and_are_read_exactly(oms: AlpacaOms):
    bot = await oms.bot("live")
    as_numbers = (
        b'{"symbol":"BTC/USD","qty":0.0003,"side":"buy","type":"limit",'
        b'"limit_price":62000.5,"time_in_force":"gtc"}'
    )
    as_strings = {
        "symbol": "BTCUSD",
        "qty": "0.0007",
        "side": "buy",
        "type": "limit",
        "limit_price": "6.2e4",
        "time_in_force": "gtc",
    }

    first = await oms.http.post("/v2/orders", content=as_numbers, headers=bot.headers)
    second = await oms.http.post("/v2/orders", json=as_strings, headers=bot.headers)

    assert first.status_code == 200, first.text
    assert (first.json()["qty"], first.json()["limit_price"]) == ("0.0003", "62000.5")
    assert (second.json()["qty"], second.json()["limit_price"]) == ("0.0007", "62000")
    assert second.json()["symbol"] == "BTC/USD"
    await oms.http.delete("/v2/orders", headers=bot.headers)


async def test_too_many_orders_is_429_with_a_retry_hint(oms: AlpacaOms):
    bot = await oms.bot("live")
    limits = {"risk_limits": {"rate_per_second": 1, "burst": 1}}
    changed = await oms.http.patch(
        f"/api/admin/accounts/{bot.account_id}", json=limits, headers={"X-API-Key": oms.admin_key}
    )
    assert changed.status_code == 200, changed.text
    order = {
        "symbol": "AAPL",
        "qty": "1",
        "side": "buy",
        "type": "limit",
        "limit_price": "176",
        "time_in_force": "gtc",
    }

    answers = [await oms.http.post("/v2/orders", json=order, headers=bot.headers) for _ in range(3)]

    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert_alpaca_error(limited[0], 429)
    assert int(limited[0].headers["Retry-After"]) >= 1
    await oms.http.delete("/v2/orders", headers=bot.headers)
