"""Request and response models of the venue admin API (`/api/admin/venues`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from functions.schemas import Request, Response, VenueName

HOST_PATTERN = r"^([A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])$"
Host = Annotated[str, StringConstraints(pattern=HOST_PATTERN, max_length=253)]
# FIX CompIDs: printable ASCII without spaces (no SOH can slip into a message).
CompId = Annotated[str, StringConstraints(pattern=r"^[!-~]{1,64}$", max_length=64)]
SessionTime = Annotated[
    str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$", max_length=8)
]
SettingRef = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class FixCredentials(Request):
    """Names of settings holding the secrets (never the secrets)."""

    password: SettingRef | None = None  # the setting (or mapped Key Vault secret) holding it


class CreateFixVenue(Request):
    """A FIX 4.4 venue: we are `sender_comp_id`, the venue is `target_comp_id`."""

    name: VenueName
    kind: Literal["fix"]
    host: Host
    port: int = Field(ge=1, le=65_535)
    sender_comp_id: CompId
    target_comp_id: CompId
    begin_string: Literal["FIX.4.4"] = "FIX.4.4"
    heartbeat_seconds: int = Field(30, ge=1, le=300)
    session_start: SessionTime = Field("00:00:00", description="UTC; equal to the end: 24 h")
    session_end: SessionTime = "00:00:00"
    username: CompId | None = None
    rate_per_second: int = Field(50, ge=1, le=10_000, description="Requests per second.")
    burst: int = Field(100, ge=1, le=100_000)
    credentials: FixCredentials = FixCredentials()


class VenueOut(Response):
    name: str
    kind: Literal["fix"]
    state: Literal["connected", "connecting", "disconnected"]
    last_error: str | None
    state_at: str | None = Field(description="When the owning gateway last reported.")
    host: str
    port: int
    sender_comp_id: str
    target_comp_id: str
    begin_string: str
    heartbeat_seconds: int
    session_start: str
    session_end: str
    username: str | None
    rate_per_second: int
    burst: int
    credentials: dict[str, str] = Field(description="Role -> setting name; never a secret.")
    created_at: str


class VenuePage(Response):
    items: list[VenueOut]
    next_cursor: None = None
