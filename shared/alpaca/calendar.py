"""Alpaca's market clock and calendar from the instruments' trading sessions
(`shared.domain.sessions`).

Alpaca's clock and calendar are those of the US equity market. Here they follow the trading
session of this OMS's US equities: the session most equity instruments with a session have
(instruments trading around the clock and crypto, which Alpaca trades around the clock too,
do not count). Its times are local times of its time zone, as Alpaca's are New York's. With
no equity session the market trades around the clock: always open, each day a UTC day from
00:00 to 23:59, the next opening as one closes. Holidays are not modelled.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.domain.enums import AssetClass
from shared.domain.sessions import TradingSession, clock_str, is_open, next_close, next_open
from shared.services.deps import Deps
from shared.services.states import GLOBAL_SYMBOL

_LAST_MINUTE = 24 * 60 - 1


async def market_session(deps: Deps) -> TradingSession | None:
    """The session of the US equity market here (see the module docstring)."""
    sessions = Counter(
        instrument.session
        for instrument in await deps.store.instruments.list_instruments()
        if instrument.symbol != GLOBAL_SYMBOL
        and instrument.asset_class is AssetClass.EQUITY
        and instrument.session is not None
    )
    if not sessions:
        return None
    return sessions.most_common(1)[0][0]


def _rfc3339(ns: int, zone: ZoneInfo | None) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=ns % 1_000_000_000 // 1_000
    )
    if zone is None:
        return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return moment.astimezone(zone).isoformat(timespec="microseconds")


def clock(session: TradingSession | None, now: int) -> dict[str, object]:
    """Alpaca's clock at `now` (ns)."""
    zone = None if session is None else session.zone
    return {
        "timestamp": _rfc3339(now, zone),
        "is_open": is_open(session, now),
        "next_open": _rfc3339(next_open(session, now), zone),
        "next_close": _rfc3339(next_close(session, now), zone),
    }


def market_date(session: TradingSession | None, now: int) -> date:
    """Today in the market's time zone (UTC around the clock)."""
    zone = UTC if session is None else session.zone
    return datetime.fromtimestamp(now // 1_000_000_000, zone).date()


def _hhmm(minutes: int) -> str:
    # Alpaca's calendar times are times of the day: a close at midnight is its last minute.
    return clock_str(min(minutes, _LAST_MINUTE))


def calendar(session: TradingSession | None, first: date, last: date) -> list[dict[str, str]]:
    """Alpaca's calendar: each day from `first` to `last` on which the market opens."""
    opens, closes = (0, _LAST_MINUTE) if session is None else (session.open, session.close)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [
        {
            "date": day.isoformat(),
            "open": _hhmm(opens),
            "close": _hhmm(closes),
            "session_open": _hhmm(opens).replace(":", ""),
            "session_close": _hhmm(closes).replace(":", ""),
        }
        for day in days
        if session is None or day.weekday() in session.days
    ]
