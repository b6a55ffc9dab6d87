"""The clock and the calendar through alpaca-py follow the US equities' trading session
(09:30 to 16:00 New York time, Monday to Friday here), worked out independently from the
clock's own timestamp; an order outside its instrument's session is refused saying so."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide
from alpaca.trading.requests import GetCalendarRequest

from tests.alpaca.conftest import AlpacaOms, call
from tests.alpaca.test_money import instrument, limit

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def next_time(after: datetime, at: time) -> datetime:
    """The first weekday `at` (New York) after `after`."""
    day = after.astimezone(NEW_YORK).date()
    while True:
        moment = datetime.combine(day, at, tzinfo=NEW_YORK)
        if day.weekday() < 5 and moment > after:
            return moment
        day += timedelta(days=1)


async def test_clock_and_calendar_follow_the_equities_session(oms: AlpacaOms):
    hours = {"open": "09:30", "close": "16:00", "timezone": "America/New_York"}
    await instrument(oms, "SESS1", reference_price="100", session=hours)
    bot = await oms.bot()

    clock = await call(bot.client.get_clock)
    days = await call(
        bot.client.get_calendar, GetCalendarRequest(start=date(2026, 3, 2), end=date(2026, 3, 15))
    )

    now = clock.timestamp
    local = now.astimezone(NEW_YORK)
    opens, closes = time(9, 30), time(16, 0)
    trading = local.weekday() < 5 and opens <= local.time() < closes
    assert clock.is_open is trading
    assert clock.next_open == next_time(now, opens)
    assert clock.next_close == next_time(now, closes)
    # Two weeks with the start of daylight saving time (8 March) in them: ten trading days,
    # each 09:30 to 16:00 local time.
    assert [d.date for d in days] == [
        date(2026, 3, 2) + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11)
    ]
    assert {(d.open.time(), d.close.time()) for d in days} == {(opens, closes)}


async def test_an_order_outside_its_instruments_session_is_refused(oms: AlpacaOms):
    # Crypto, so the equities' clock is not its: it trades one hour on one day, not today's.
    day = WEEKDAYS[(datetime.now(NEW_YORK).weekday() + 3) % 7]
    hours = {"open": "10:00", "close": "11:00", "timezone": "America/New_York", "days": [day]}
    await instrument(
        oms,
        "SESSX",
        asset_class="crypto",
        reference_price="100",
        session=hours,
    )
    bot = await oms.bot("live", starting_cash="10000")

    with pytest.raises(APIError) as closed:
        await call(bot.client.submit_order, limit("SESSX/USD", OrderSide.BUY, 1, 100))

    assert closed.value.status_code == 422 and "closed" in closed.value.message
