"""Trading sessions: when an instrument trades, and when its trading day ends (DAY orders
expire then).

A session opens at `open` and closes at `close` (local times of `timezone`, daylight
saving included) on the weekdays in `days` (the day it opens: a session whose close is not
after its open runs overnight into the next day). None is a 24-hour market: it always
trades, and its trading day ends at 00:00 UTC. Holidays are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NS = 1_000_000_000
_DAY_NS = 86_400 * NS
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
_CATCH_UP_DAYS = 8  # closes further back than this are one close too: a day ends once


@dataclass(frozen=True, slots=True)
class TradingSession:
    """`open` and `close` in minutes after local midnight (`close` up to 1,440: midnight at
    the end of the day), `days` the weekdays it opens on (0 = Monday)."""

    open: int
    close: int
    timezone: str
    days: tuple[int, ...] = MONDAY_TO_FRIDAY

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _window(session: TradingSession, day: date) -> tuple[int, int]:
    """When the session opening on `day` opens and closes (ns). Aware datetime arithmetic
    with a ZoneInfo is wall-clock arithmetic: the hours stay local across DST changes."""
    zone = session.zone
    opens = datetime.combine(day, time(), zone) + timedelta(minutes=session.open)
    close_day = day if session.close > session.open else day + timedelta(days=1)
    closes = datetime.combine(close_day, time(), zone) + timedelta(minutes=session.close)
    return _ns(opens), _ns(closes)


def _session_days(session: TradingSession, first: date, last: date) -> list[date]:
    """The days from `first` to `last` on which the session opens."""
    days, day = [], first
    while day <= last:
        if day.weekday() in session.days:
            days.append(day)
        day += timedelta(days=1)
    return days


def _ns(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1_000


def _date_of(ns: int, session: TradingSession) -> date:
    return datetime.fromtimestamp(ns // NS, session.zone).date()


def is_open(session: TradingSession | None, now: int) -> bool:
    """Whether the instrument trades at `now` (ns since the epoch)."""
    if session is None:
        return True
    today = _date_of(now, session)
    for day in _session_days(session, today - timedelta(days=1), today):
        opens, closes = _window(session, day)
        if opens <= now < closes:
            return True
    return False


def last_close(session: TradingSession | None, after: int, until: int) -> int | None:
    """The latest end of a trading day in `(after, until]` (ns), None if there is none:
    the session's close, or 00:00 UTC for a 24-hour market."""
    if until <= after:
        return None
    after = max(after, until - _CATCH_UP_DAYS * _DAY_NS)
    if session is None:
        midnight = until // _DAY_NS * _DAY_NS
        return midnight if midnight > after else None
    first, last = _date_of(after, session) - timedelta(days=1), _date_of(until, session)
    closes = [_window(session, day)[1] for day in _session_days(session, first, last)]
    inside = [close for close in closes if after < close <= until]
    return max(inside) if inside else None


def next_close(session: TradingSession | None, after: int) -> int:
    """The first end of a trading day after `after` (ns)."""
    if session is None:
        return (after // _DAY_NS + 1) * _DAY_NS
    first = _date_of(after, session) - timedelta(days=1)
    closes = [
        _window(session, day)[1]
        for day in _session_days(session, first, first + timedelta(days=_CATCH_UP_DAYS))
    ]
    return min(close for close in closes if close > after)


def parse_clock(value: str, *, end_of_day: bool = False) -> int:
    """Minutes after midnight of "HH:MM" ("24:00" only as a close); ValueError otherwise."""
    hours, _, minutes = value.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"{value!r} is not a time as HH:MM")
    total = int(hours) * 60 + int(minutes)
    limit = 24 * 60 if end_of_day else 24 * 60 - 1
    if int(minutes) > 59 or total > limit:
        raise ValueError(f"{value!r} is not a time of day")
    return total


def clock_str(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


ALL_DAY = "24h"


def describe(session: TradingSession | None) -> str | dict[str, object]:
    """How the API shows (and the stores keep) a session: "24h", or its local hours, time
    zone and weekdays ("mon", ...)."""
    if session is None:
        return ALL_DAY
    return {
        "open": clock_str(session.open),
        "close": clock_str(session.close),
        "timezone": session.timezone,
        "days": [WEEKDAYS[day] for day in session.days],
    }


def from_description(described: object) -> TradingSession | None:
    """The session `describe` gave (as it was stored)."""
    if not isinstance(described, dict):
        return None
    return TradingSession(
        parse_clock(str(described["open"])),
        parse_clock(str(described["close"]), end_of_day=True),
        str(described["timezone"]),
        tuple(WEEKDAYS.index(str(day)) for day in described["days"]),
    )


def next_open(session: TradingSession | None, after: int) -> int:
    """The first start of a trading session after `after` (ns); a 24-hour market's trading
    day starts at 00:00 UTC."""
    if session is None:
        return (after // _DAY_NS + 1) * _DAY_NS
    first = _date_of(after, session)
    opens = [
        _window(session, day)[0]
        for day in _session_days(session, first, first + timedelta(days=_CATCH_UP_DAYS))
    ]
    return min(opening for opening in opens if opening > after)
