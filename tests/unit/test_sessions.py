"""Trading sessions: open hours in the instrument's own time zone (daylight saving included),
weekends closed, overnight sessions, and where a trading day ends."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.domain.sessions import TradingSession, is_open, last_close, parse_clock

NEW_YORK = TradingSession(9 * 60 + 30, 16 * 60, "America/New_York")
NS = 1_000_000_000


def at(text: str, zone: str = "America/New_York") -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return int(moment.timestamp()) * NS


@pytest.mark.parametrize(
    ("moment", "trades"),
    [
        ("2026-03-06 09:29", False),  # a Friday, before the open
        ("2026-03-06 09:30", True),
        ("2026-03-06 15:59", True),
        ("2026-03-06 16:00", False),  # the close is not in the session
        ("2026-03-07 12:00", False),  # Saturday
        ("2026-03-09 09:30", True),  # Monday, the day after DST began: still 09:30 local
        ("2026-11-02 09:30", True),  # the Monday after it ended
    ],
)
def test_a_session_keeps_its_local_hours_on_weekdays(moment: str, trades: bool) -> None:
    assert is_open(NEW_YORK, at(moment)) is trades


def test_the_close_is_16_00_new_york_time_in_summer_and_in_winter() -> None:
    summer = last_close(NEW_YORK, at("2026-07-01 15:00"), at("2026-07-01 17:00"))
    winter = last_close(NEW_YORK, at("2026-12-01 15:00"), at("2026-12-01 17:00"))
    assert summer == int(datetime(2026, 7, 1, 20, 0, tzinfo=UTC).timestamp()) * NS
    assert winter == int(datetime(2026, 12, 1, 21, 0, tzinfo=UTC).timestamp()) * NS


def test_a_close_counts_once_and_the_latest_of_several_is_given() -> None:
    close = at("2026-03-06 16:00")
    assert last_close(NEW_YORK, close - NS, close) == close
    assert last_close(NEW_YORK, close, close + 3600 * NS) is None
    # Down over a long weekend: the last close before coming back.
    assert last_close(NEW_YORK, at("2026-03-04 12:00"), at("2026-03-09 08:00")) == close


def test_an_overnight_session_opens_one_day_and_closes_the_next() -> None:
    futures = TradingSession(18 * 60, 17 * 60, "America/Chicago", days=(6, 0, 1, 2, 3))
    assert is_open(futures, at("2026-03-09 02:00", "America/Chicago"))  # Monday night session
    assert not is_open(futures, at("2026-03-09 17:30", "America/Chicago"))
    assert not is_open(futures, at("2026-03-13 17:30", "America/Chicago"))  # Friday evening
    closes = last_close(
        futures,
        at("2026-03-09 12:00", "America/Chicago"),
        at("2026-03-09 18:00", "America/Chicago"),
    )
    assert closes == at("2026-03-09 17:00", "America/Chicago")


def test_a_24_hour_market_always_trades_and_its_day_ends_at_midnight_utc() -> None:
    midnight = int(datetime(2026, 3, 7, tzinfo=UTC).timestamp()) * NS
    assert is_open(None, midnight)
    assert last_close(None, midnight - NS, midnight + NS) == midnight
    assert last_close(None, midnight, midnight + 3600 * NS) is None


def test_a_clock_time_is_hh_mm() -> None:
    assert parse_clock("09:30") == 570
    assert parse_clock("24:00", end_of_day=True) == 1440
    for bad in ("9:30", "24:00", "12:60", "ab:cd", "12:3"):
        with pytest.raises(ValueError):
            parse_clock(bad)
