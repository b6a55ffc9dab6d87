"""Alpaca's dialect without a server: an order's Alpaca ids through replaces, the feed as
trade updates (a fill paired with its execution, a replace as replaced + new), and the
timeframes bars are cut on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from alpaca.trading.models import Calendar, TradeUpdate

from alpaca_stream.updates import TradeUpdates
from shared.alpaca.calendar import calendar
from shared.alpaca.generations import Role, generation_in
from shared.alpaca.ids import order_ids_of, order_uuid, replacement_id
from shared.alpaca.symbols import AlpacaName, alpaca_name
from shared.domain.enums import AssetClass
from shared.domain.instrument import Instrument
from shared.domain.sessions import TradingSession
from shared.services.errors import InvalidRequest
from shared.services.market_data import parse_timeframe

ORDER = "0123456789abcdef0123456789abcdef"
BTC = Instrument("BTC-USD", Decimal("0.01"), Decimal("0.0001"), asset_class=AssetClass.CRYPTO)


def btc_names(symbol: str) -> AlpacaName:
    assert symbol == BTC.symbol
    return alpaca_name(BTC)


@pytest.mark.parametrize(
    ("symbol", "asset_class", "currency", "named"),
    [
        ("BTC-USD", AssetClass.CRYPTO, "USD", ("BTC/USD", "BTCUSD", "crypto")),
        ("ETHUSDT", AssetClass.CRYPTO, "USDT", ("ETH/USDT", "ETHUSDT", "crypto")),
        ("SOL", AssetClass.CRYPTO, "USD", ("SOL/USD", "SOLUSD", "crypto")),
        ("AAPL", AssetClass.EQUITY, "USD", ("AAPL", "AAPL", "us_equity")),
        # The asset class decides, not the spelling: an equity that looks like a pair.
        ("ABC-USD", AssetClass.EQUITY, "USD", ("ABC-USD", "ABC-USD", "us_equity")),
    ],
)
def test_alpaca_names_an_instrument_by_its_asset_class(
    symbol: str, asset_class: AssetClass, currency: str, named: tuple[str, str, str]
):
    instrument = Instrument(
        symbol, Decimal("0.01"), Decimal(1), asset_class=asset_class, currency=currency
    )

    name = alpaca_name(instrument)

    assert (name.symbol, name.position_symbol, name.asset_class) == named


def test_each_client_order_id_an_order_carried_is_one_alpaca_order():
    carried = ["first", "second", "third"]

    first = generation_in(ORDER, carried, "first")
    second = generation_in(ORDER, carried, "second")
    now = generation_in(ORDER, carried, "third")
    asked = generation_in(ORDER, carried, "fourth", pending="fourth")
    refused = generation_in(ORDER, carried, "fifth")

    assert first.alpaca_id == order_uuid(ORDER) == "01234567-89ab-cdef-0123-456789abcdef"
    assert (first.role, first.replaces, first.replaced_by) == (
        Role.REPLACED,
        None,
        second.alpaca_id,
    )
    assert second.alpaca_id == replacement_id(ORDER, "second")
    assert (second.replaces, second.replaced_by) == (first.alpaca_id, now.alpaca_id)
    assert (now.role, now.replaces, now.replaced_by) == (Role.CURRENT, second.alpaca_id, None)
    assert (asked.role, asked.replaces) == (Role.REPLACING, now.alpaca_id)
    assert refused.role is Role.REFUSED


def view(event: str, **changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "order_id": ORDER,
        "client_order_id": "c1",
        "previous_client_order_ids": [],
        "account_id": "acc",
        "symbol": "BTC-USD",
        "side": "buy",
        "type": "limit",
        "time_in_force": "gtc",
        "quantity": "2",
        "limit_price": "100.5",
        "stop_price": None,
        "expire_at": None,
        "status": "new",
        "filled_quantity": "0",
        "leaves_quantity": "2",
        "canceled_quantity": "0",
        "average_fill_price": None,
        "fees": "0",
        "reject_reason": None,
        "created_at": "2024-05-01T12:00:00.000000001Z",
        "updated_at": "2024-05-01T12:00:01.000000000Z",
        "seq": 1,
        "event": event,
    }
    order.update(changes)
    return order


def test_the_feed_becomes_trade_updates_alpaca_py_parses():
    updates = TradeUpdates(btc_names)
    messages = [
        ("orderUpdated", view("order_accepted")),
        ("orderUpdated", view("order_filled", status="partially_filled", filled_quantity="0.5")),
        (
            "executionReported",
            {
                "execution_id": "BTC-USD-E7",
                "order_id": ORDER,
                "price": "100.5",
                "quantity": "0.5",
                "executed_at": "2024-05-01T12:00:02.000000000Z",
                "position_quantity": "-1.5",
            },
        ),
        (
            "orderUpdated",
            view(
                "order_replaced",
                client_order_id="c2",
                previous_client_order_ids=["c1"],
                limit_price="101",
                status="partially_filled",
            ),
        ),
    ]

    sent = [u for target, data in messages for u in updates.translate(target, data)]

    parsed = [TradeUpdate.model_validate(u) for u in sent]
    assert [u.event for u in parsed] == ["new", "partial_fill", "replaced", "new"]
    fill = parsed[1]
    assert (fill.price, fill.qty, fill.position_qty) == (100.5, 0.5, -1.5)
    assert fill.order.status.value == "partially_filled" and fill.order.symbol == "BTC/USD"
    replaced, new = parsed[2].order, parsed[3].order
    assert (replaced.status.value, replaced.limit_price) == ("replaced", "100.5")
    assert replaced.replaced_by == new.id and new.replaces == replaced.id
    assert str(replaced.id) == order_uuid(ORDER) and new.limit_price == "101"


def test_a_replace_in_place_through_the_native_api_is_restated():
    updates = TradeUpdates(btc_names)
    updates.translate("orderUpdated", view("order_accepted"))

    (update,) = updates.translate("orderUpdated", view("order_replaced", quantity="1"))

    assert update["event"] == "restated"
    assert TradeUpdate.model_validate(update).order.qty == "1"


def test_a_held_exit_is_new_when_its_entry_releases_it_and_a_partial_release_restates_it():
    updates = TradeUpdates(btc_names)
    leg = f"{ORDER}-tp"
    held = view("order_accepted", order_id=leg, status="held", order_class="bracket")

    accepted = updates.translate("orderUpdated", held)
    first = updates.translate(
        "orderUpdated",
        {**held, "event": "order_restated", "event_reason": "LEG_RELEASED", "status": "new"},
    )
    more = updates.translate(
        "orderUpdated",
        {**held, "event": "order_restated", "event_reason": "LEG_RELEASED", "status": "new"},
    )

    assert accepted == []
    assert [u["event"] for u in first + more] == ["new", "restated"]
    order = TradeUpdate.model_validate(first[0]).order
    assert order.order_class.value == "bracket" and str(order.id) == order_uuid(leg)


def test_a_legs_alpaca_id_leads_back_to_its_order():
    head = order_uuid(ORDER)
    legs = {order_uuid(f"{ORDER}-tp"), order_uuid(f"{ORDER}-sl")}

    assert len(legs | {head}) == 3
    for leg in ("tp", "sl"):
        assert f"{ORDER}-{leg}" in order_ids_of(UUID(order_uuid(f"{ORDER}-{leg}")))
    assert order_ids_of(UUID(head))[0] == ORDER


def test_the_calendar_lists_the_sessions_weekdays_with_a_midnight_close_as_its_last_minute():
    evenings = TradingSession(18 * 60, 24 * 60, "America/New_York", (0, 2))

    days = calendar(evenings, date(2026, 3, 2), date(2026, 3, 8))
    around_the_clock = calendar(None, date(2026, 3, 2), date(2026, 3, 3))

    assert [(d["date"], d["open"], d["close"]) for d in days] == [
        ("2026-03-02", "18:00", "23:59"),
        ("2026-03-04", "18:00", "23:59"),
    ]
    assert [Calendar(**d).close.minute for d in days] == [59, 59]
    assert [(d["open"], d["session_close"]) for d in around_the_clock] == [("00:00", "2359")] * 2


@pytest.mark.parametrize(
    ("text", "instant", "start"),
    [
        ("1Min", "2024-05-01T12:34:56", "2024-05-01T12:34:00"),
        ("15Min", "2024-05-01T12:34:56", "2024-05-01T12:30:00"),
        ("4Hour", "2024-05-01T12:34:56", "2024-05-01T12:00:00"),
        ("1Day", "2024-05-01T12:34:56", "2024-05-01T00:00:00"),
        ("1Week", "2024-05-01T12:34:56", "2024-04-29T00:00:00"),  # a Wednesday: Monday
        ("3Month", "2024-05-01T12:34:56", "2024-04-01T00:00:00"),
        ("1M", "2024-12-31T23:59:59", "2024-12-01T00:00:00"),
    ],
)
def test_bars_begin_on_utc_boundaries(text: str, instant: str, start: str):
    frame = parse_timeframe(text)

    def ns(text: str) -> int:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 10**9

    assert frame.start_of(ns(instant)) == ns(start)
    assert frame.start_of(frame.after(ns(start))) == frame.after(ns(start))


@pytest.mark.parametrize("text", ["0Min", "60Min", "2Day", "5Month", "1Fortnight", "Min"])
def test_timeframes_alpaca_refuses_are_refused(text: str):
    with pytest.raises(InvalidRequest):
        parse_timeframe(text)
