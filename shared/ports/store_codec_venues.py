"""Plain-dict forms of venue definitions and connection records (see `store_codec`)."""

from __future__ import annotations

from shared.ports.store_codec import Doc
from shared.ports.store_venues import (
    FixVenueSettings,
    VenueConnection,
    VenueDefinition,
    VenueKind,
)
from shared.ports.venue import ConnectionState


def venue_to_doc(venue: VenueDefinition) -> Doc:
    fix = venue.fix
    return {
        "name": venue.name,
        "kind": venue.kind.value,
        "fix": None
        if fix is None
        else {
            "host": fix.host,
            "port": fix.port,
            "sender_comp_id": fix.sender_comp_id,
            "target_comp_id": fix.target_comp_id,
            "begin_string": fix.begin_string,
            "heartbeat_seconds": fix.heartbeat_seconds,
            "session_start": fix.session_start,
            "session_end": fix.session_end,
            "username": fix.username,
        },
        "rate_per_second": venue.rate_per_second,
        "burst": venue.burst,
        "credentials": [[role, setting] for role, setting in venue.credentials],
        "created_at": venue.created_at,
    }


def venue_from_doc(doc: Doc) -> VenueDefinition:
    fix = doc.get("fix")
    return VenueDefinition(
        name=doc["name"],
        kind=VenueKind(doc["kind"]),
        fix=None
        if fix is None
        else FixVenueSettings(
            host=fix["host"],
            port=fix["port"],
            sender_comp_id=fix["sender_comp_id"],
            target_comp_id=fix["target_comp_id"],
            begin_string=fix["begin_string"],
            heartbeat_seconds=fix["heartbeat_seconds"],
            session_start=fix["session_start"],
            session_end=fix["session_end"],
            username=fix.get("username"),
        ),
        rate_per_second=doc["rate_per_second"],
        burst=doc["burst"],
        credentials=tuple((role, setting) for role, setting in doc["credentials"]),
        created_at=doc["created_at"],
    )


def connection_to_doc(connection: VenueConnection) -> Doc:
    return {
        "name": connection.name,
        "state": connection.state.value,
        "last_error": connection.last_error,
        "updated_at": connection.updated_at,
        "owner": connection.owner,
    }


def connection_from_doc(doc: Doc) -> VenueConnection:
    return VenueConnection(
        name=doc["name"],
        state=ConnectionState(doc["state"]),
        last_error=doc["last_error"],
        updated_at=doc["updated_at"],
        owner=doc["owner"],
    )
