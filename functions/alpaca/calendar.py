"""`/v2/clock` and `/v2/calendar`, from the instruments' trading sessions
(`shared.alpaca.calendar`)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter
from starlette.responses import Response

from functions.alpaca.deps import CallerDep, ContainerDep
from functions.alpaca.shapes import json_response
from shared.alpaca.calendar import calendar, clock, market_date, market_session
from shared.services import codes
from shared.services.errors import InvalidRequest

router = APIRouter(prefix="/v2", tags=["alpaca"])

_MAX_DAYS = 3_660  # ten years per request


@router.get("/clock")
async def get_clock(container: ContainerDep, caller: CallerDep) -> Response:
    return json_response(clock(await market_session(container), container.clock()))


@router.get("/calendar")
async def get_calendar(
    container: ContainerDep, caller: CallerDep, start: date | None = None, end: date | None = None
) -> Response:
    session = await market_session(container)
    first = start or market_date(session, container.clock())
    last = end or first + timedelta(days=365)
    if last < first:
        raise InvalidRequest(codes.INVALID_VALUE, "end is before start", "end")
    if (last - first).days > _MAX_DAYS:
        raise InvalidRequest(codes.INVALID_VALUE, "at most ten years per request", "end")
    return json_response(calendar(session, first, last))
