"""Administration of external venues (role `admin`): define them, see their connections."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from functions.http.deps import AdminDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas_venues import CreateFixVenue, VenueOut, VenuePage
from shared.ports.store_venues import FixVenueSettings, VenueDefinition, VenueKind
from shared.services import venues
from shared.services.views import venue_view

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post(
    "/venues",
    status_code=201,
    response_model=VenueOut,
    responses=errors(401, 403, 409, 413, 422),
    summary="Define an external venue; a gateway connects to it at once",
)
async def define_venue(body: CreateFixVenue, container: ContainerDep, caller: AdminDep) -> Response:
    credentials = tuple(
        (role, setting) for role, setting in body.credentials.model_dump(exclude_none=True).items()
    )
    spec = VenueDefinition(
        name=body.name,
        kind=VenueKind(body.kind),
        fix=FixVenueSettings(
            host=body.host,
            port=body.port,
            sender_comp_id=body.sender_comp_id,
            target_comp_id=body.target_comp_id,
            begin_string=body.begin_string,
            heartbeat_seconds=body.heartbeat_seconds,
            session_start=body.session_start,
            session_end=body.session_end,
            username=body.username,
        ),
        rate_per_second=body.rate_per_second,
        burst=body.burst,
        credentials=credentials,
    )
    venue = await venues.define_venue(container, spec, caller.account_id)
    status = venues.connection_state(venue, None, container.clock())
    out = VenueOut.model_validate(venue_view(status))
    return json_response(out.model_dump_json().encode(), 201)


@router.get(
    "/venues",
    response_model=VenuePage,
    responses=errors(401, 403),
    summary="Every venue with its connection's state and last error",
)
async def list_venues(container: ContainerDep, caller: AdminDep) -> VenuePage:
    statuses = await venues.list_venues(container)
    return VenuePage.model_validate({"items": [venue_view(s) for s in statuses]})
