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
URL_PATTERN = r"^https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?/?$"
BaseUrl = Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=200)]
Port = Annotated[int, Field(ge=1, le=65_535)]
Heartbeat = Annotated[int, Field(ge=1, le=300)]
Rate = Annotated[int, Field(ge=1, le=10_000, description="Requests per second.")]
Burst = Annotated[int, Field(ge=1, le=100_000)]
Version = Annotated[
    int, Field(ge=0, description="Change only this version (409 VENUE_VERSION_CONFLICT)")
]


class FixCredentials(Request):
    """Names of settings holding the secrets (never the secrets)."""

    password: SettingRef | None = None  # the setting (or mapped Key Vault secret) holding it


class AlpacaCredentials(Request):
    """Names of the settings holding the API key id and secret (never the values)."""

    key_id: SettingRef
    secret_key: SettingRef


class CreateFixVenue(Request):
    """A FIX 4.4 venue: we are `sender_comp_id`, the venue is `target_comp_id`."""

    name: VenueName
    kind: Literal["fix"]
    host: Host
    port: Port
    sender_comp_id: CompId
    target_comp_id: CompId
    begin_string: Literal["FIX.4.4"] = "FIX.4.4"
    heartbeat_seconds: Heartbeat = 30
    session_start: SessionTime = Field("00:00:00", description="UTC; equal to the end: 24 h")
    session_end: SessionTime = "00:00:00"
    username: CompId | None = None
    rate_per_second: Rate = 50
    burst: Burst = 100
    credentials: FixCredentials = FixCredentials()


class CreateAlpacaVenue(Request):
    """An Alpaca trading account (REST API and `trade_updates` stream): `paper` or `live`
    on Alpaca's own endpoints, or `custom` with `base_url` (an Alpaca-compatible API)."""

    name: VenueName
    kind: Literal["alpaca"]
    environment: Literal["paper", "live", "custom"] = "paper"
    base_url: BaseUrl | None = None
    rate_per_second: Rate = Field(3, ge=1, le=10_000, description="Alpaca: 200 a minute.")
    burst: Burst = 10
    credentials: AlpacaCredentials


CreateVenue = Annotated[CreateFixVenue | CreateAlpacaVenue, Field(discriminator="kind")]


class ChangeVenue(Request):
    """The fields to change (name and kind never change); anything left out stays."""

    version: Version | None = None
    host: Host | None = None
    port: Port | None = None
    sender_comp_id: CompId | None = None
    target_comp_id: CompId | None = None
    heartbeat_seconds: Heartbeat | None = None
    session_start: SessionTime | None = None
    session_end: SessionTime | None = None
    username: CompId | None = None
    environment: Literal["paper", "live", "custom"] | None = None
    base_url: BaseUrl | None = None
    rate_per_second: Rate | None = None
    burst: Burst | None = None
    credentials: dict[str, SettingRef] | None = Field(
        None, description="Role -> setting name; replaces the venue's credentials."
    )


class VenueOut(Response):
    name: str
    kind: Literal["fix", "alpaca"]
    version: int
    deleting: bool = Field(description="A DELETE began and did not finish: run it again.")
    state: Literal["connected", "connecting", "disconnected"]
    last_error: str | None
    state_at: str | None = Field(description="When the owning gateway last reported.")
    host: str | None = None
    port: int | None = None
    sender_comp_id: str | None = None
    target_comp_id: str | None = None
    begin_string: str | None = None
    heartbeat_seconds: int | None = None
    session_start: str | None = None
    session_end: str | None = None
    username: str | None = None
    environment: str | None = None
    base_url: str | None = None
    rate_per_second: int
    burst: int
    credentials: dict[str, str] = Field(description="Role -> setting name; never a secret.")
    created_at: str


class VenuePage(Response):
    items: list[VenueOut]
    next_cursor: None = None
