"""An instrument's trading session through the admin API: stored, shown, changed, and
checked at intake (MARKET_CLOSED outside it, never for a 24-hour market)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.oms import Client, Oms, Transport

NEW_YORK = {"open": "09:30", "close": "16:00", "timezone": "America/New_York"}
ORDER = {"symbol": "NYS", "side": "buy", "type": "limit", "quantity": "1", "limit_price": "100"}


def new_york(text: str) -> int:
    return (
        int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("America/New_York")).timestamp())
        * 10**9
    )


async def admin_and_trader(oms: Oms, transport: Transport) -> tuple[Client, Client]:
    _, key = await oms.add_account("trader")
    return Client(transport, oms.admin_key), Client(transport, key)


async def test_orders_are_refused_outside_the_session_and_taken_inside(
    oms: Oms, transport: Transport
) -> None:
    admin, trader = await admin_and_trader(oms, transport)
    created = await admin.call(
        "POST",
        "/api/admin/instruments",
        json={
            "symbol": "NYS",
            "tick_size": "0.01",
            "lot_size": "1",
            "reference_price": "100",
            "session": NEW_YORK,
        },
    )
    assert created.status == 201, created.body
    assert created.json()["session"] == {**NEW_YORK, "days": ["mon", "tue", "wed", "thu", "fri"]}

    oms.clock.now = new_york("2026-03-07 11:00")  # a Saturday
    closed = await trader.place(**ORDER)
    oms.clock.now = new_york("2026-03-09 09:29")  # Monday, a minute before the open
    early = await trader.place(**ORDER)
    oms.clock.now = new_york("2026-03-09 09:30")
    opened = await trader.place(**ORDER)

    assert (closed.status, closed.json()["reason"], closed.json()["field"]) == (
        422,
        "MARKET_CLOSED",
        "symbol",
    )
    assert "09:30-16:00 America/New_York" in closed.json()["detail"]
    assert early.json()["reason"] == "MARKET_CLOSED"
    assert opened.status == 202, opened.body

    oms.clock.now = new_york("2026-03-07 11:00")
    always = await admin.call("PATCH", "/api/admin/instruments/NYS", json={"session": "24h"})
    assert always.json()["session"] == "24h"
    assert (await trader.place(**ORDER)).status == 202
    shown = await trader.call("GET", "/api/instruments/NYS")
    assert shown.json()["session"] == "24h"


async def test_an_instrument_made_without_a_session_trades_around_the_clock(
    oms: Oms, functions_transport: Transport
) -> None:
    _, trader = await admin_and_trader(oms, functions_transport)
    await oms.add_instrument("NYS", reference_price="100")
    oms.clock.now = new_york("2026-03-08 03:00")  # a Sunday night
    assert (await trader.place(**ORDER)).status == 202
    listed = (await trader.call("GET", "/api/instruments")).json()["items"]
    assert [i["session"] for i in listed] == ["24h"]


@pytest.mark.parametrize(
    ("session", "field"),
    [
        ({**NEW_YORK, "timezone": "Mars/Olympus"}, "session.timezone"),
        ({**NEW_YORK, "open": "25:00"}, "session.open"),
        ({**NEW_YORK, "close": "09:30"}, "session.close"),
        ({**NEW_YORK, "close": "4pm"}, "session.close"),
        ({**NEW_YORK, "days": []}, "session.days"),
        ({**NEW_YORK, "days": ["someday"]}, "session.days.0"),
        ("always", "session"),
    ],
)
async def test_a_bad_session_names_its_field(
    oms: Oms, functions_transport: Transport, session: Any, field: str
) -> None:
    admin, _ = await admin_and_trader(oms, functions_transport)
    await oms.add_instrument("NYS")

    reply = await admin.call("PATCH", "/api/admin/instruments/NYS", json={"session": session})

    assert reply.status == 422, reply.body
    assert reply.json()["field"].startswith(field), reply.json()
    shown = await admin.call("GET", "/api/instruments/NYS")
    assert shown.json()["session"] == "24h"
