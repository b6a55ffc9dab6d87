"""Plain-dict forms of venue definitions and connection records (see `store_codec`)."""

from __future__ import annotations

from shared.ports.store_codec import Doc
from shared.ports.store_venues import (
    AlpacaVenueSettings,
    FixSessionState,
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
        "version": venue.version,
        "deleting": venue.deleting,
        "alpaca": None
        if venue.alpaca is None
        else {"environment": venue.alpaca.environment, "base_url": venue.alpaca.base_url},
    }


def venue_from_doc(doc: Doc) -> VenueDefinition:
    fix, alpaca = doc.get("fix"), doc.get("alpaca")
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
        # Venues stored before they had versions are version 0.
        version=int(doc.get("version") or 0),
        deleting=bool(doc.get("deleting", False)),
        alpaca=None
        if alpaca is None
        else AlpacaVenueSettings(alpaca["environment"], alpaca.get("base_url")),
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


def session_state_to_doc(state: FixSessionState) -> Doc:
    return {
        "key": state.key,
        "created_at": state.created_at,
        "next_sender_floor": state.next_sender_floor,
        "next_target": state.next_target,
        "owner": state.owner,
        "updated_at": state.updated_at,
        "version": state.version,
    }


def session_state_from_doc(doc: Doc) -> FixSessionState:
    return FixSessionState(
        key=doc["key"],
        created_at=doc["created_at"],
        next_sender_floor=doc["next_sender_floor"],
        next_target=doc["next_target"],
        owner=doc["owner"],
        updated_at=doc["updated_at"],
        version=doc["version"],
    )
