"""Administration of external venues (role `admin`): define, read, change and delete them,
and see their connections."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from functions.http.deps import AdminDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas import VENUE_PATTERN
from functions.schemas_venues import (
    ChangeVenue,
    CreateFixVenue,
    CreateVenue,
    VenueOut,
    VenuePage,
)
from shared.ports.store_venues import (
    AlpacaVenueSettings,
    FixVenueSettings,
    VenueDefinition,
    VenueKind,
)
from shared.services import venues
from shared.services.venue_changes import VenueChanges, apply_changes
from shared.services.views import venue_view

router = APIRouter(prefix="/api/admin", tags=["admin"])

VenuePath = Annotated[str, Path(pattern=VENUE_PATTERN, max_length=32)]
VersionQuery = Annotated[
    int | None, Query(ge=0, description="Delete only this version (409 otherwise).")
]


def _definition(body: CreateVenue) -> VenueDefinition:
    credentials = tuple(
        (role, setting) for role, setting in body.credentials.model_dump(exclude_none=True).items()
    )
    if isinstance(body, CreateFixVenue):
        fix = FixVenueSettings(
            host=body.host,
            port=body.port,
            sender_comp_id=body.sender_comp_id,
            target_comp_id=body.target_comp_id,
            begin_string=body.begin_string,
            heartbeat_seconds=body.heartbeat_seconds,
            session_start=body.session_start,
            session_end=body.session_end,
            username=body.username,
        )
        return VenueDefinition(
            body.name, VenueKind.FIX, fix, body.rate_per_second, body.burst, credentials
        )
    return VenueDefinition(
        body.name,
        VenueKind.ALPACA,
        rate_per_second=body.rate_per_second,
        burst=body.burst,
        credentials=credentials,
        alpaca=AlpacaVenueSettings(body.environment, body.base_url),
    )


async def _out(container: ContainerDep, venue: VenueDefinition) -> VenueOut:
    records = {c.name: c for c in await container.store.venues.connections()}
    status = venues.connection_state(venue, records.get(venue.name), container.clock())
    return VenueOut.model_validate(venue_view(status))


@router.post(
    "/venues",
    status_code=201,
    response_model=VenueOut,
    responses=errors(401, 403, 409, 413, 422),
    summary="Define an external venue (FIX or Alpaca); a gateway connects to it at once",
)
async def define_venue(body: CreateVenue, container: ContainerDep, caller: AdminDep) -> Response:
    venue = await venues.define_venue(container, _definition(body), caller.account_id)
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


@router.get(
    "/venues/{name}",
    response_model=VenueOut,
    responses=errors(401, 403, 404, 422),
    summary="One venue with its version and connection",
)
async def get_venue(name: VenuePath, container: ContainerDep, caller: AdminDep) -> VenueOut:
    return await _out(container, await venues.get_venue(container, name))


@router.patch(
    "/venues/{name}",
    response_model=VenueOut,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="Change a venue; the gateway holding it reconnects with the new definition",
)
async def change_venue(
    name: VenuePath, body: ChangeVenue, container: ContainerDep, caller: AdminDep
) -> VenueOut:
    given = body.model_dump(exclude_none=True, exclude={"version", "credentials"})
    credentials = None if body.credentials is None else tuple(sorted(body.credentials.items()))
    changes = VenueChanges(**given, credentials=credentials)
    venue = await venues.change_venue(
        container,
        name,
        lambda current: apply_changes(current, changes),
        caller.account_id,
        body.version,
    )
    return await _out(container, venue)


@router.delete(
    "/venues/{name}",
    status_code=204,
    responses=errors(401, 403, 404, 409, 422),
    summary="Delete a venue that no account or instrument routes to (409 VENUE_IN_USE)",
)
async def delete_venue(
    name: VenuePath, container: ContainerDep, caller: AdminDep, version: VersionQuery = None
) -> Response:
    await venues.delete_venue(container, name, caller.account_id, version)
    return Response(status_code=204)
