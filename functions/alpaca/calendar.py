"""`/v2/clock` and `/v2/calendar`.

Until instruments have trading sessions (issue 14), this OMS trades around the clock: the
market is always open, each trading day is a UTC day from 00:00 to 23:59 (the next opens as
one closes), and the calendar lists every day. Times are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter
from starlette.responses import Response

from functions.alpaca.deps import CallerDep, ContainerDep
from functions.alpaca.shapes import json_response
from shared.services import codes
from shared.services.errors import InvalidRequest

router = APIRouter(prefix="/v2", tags=["alpaca"])

_MAX_DAYS = 3_660  # ten years per request


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@router.get("/clock")
async def get_clock(container: ContainerDep, caller: CallerDep) -> Response:
    now = datetime.fromtimestamp(container.clock() / 1e9, UTC)
    next_day = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)
    return json_response(
        {
            "timestamp": _rfc3339(now),
            "is_open": True,
            "next_open": _rfc3339(next_day),
            "next_close": _rfc3339(next_day),
        }
    )


@router.get("/calendar")
async def get_calendar(
    container: ContainerDep, caller: CallerDep, start: date | None = None, end: date | None = None
) -> Response:
    today = datetime.fromtimestamp(container.clock() / 1e9, UTC).date()
    first = start or today
    last = end or first + timedelta(days=365)
    if last < first:
        raise InvalidRequest(codes.INVALID_VALUE, "end is before start", "end")
    if (last - first).days > _MAX_DAYS:
        raise InvalidRequest(codes.INVALID_VALUE, "at most ten years per request", "end")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return json_response(
        [
            {
                "date": day.isoformat(),
                "open": "00:00",
                "close": "23:59",
                "session_open": "0000",
                "session_close": "2359",
            }
            for day in days
        ]
    )
