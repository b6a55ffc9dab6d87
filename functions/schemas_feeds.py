"""Request and response models of the live-feed routes (negotiate, subscriptions, the
stream's state)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from functions.schemas import Request, Response, Symbol

FeedName = Literal["trades", "book"]
ConnectionId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9._~+/=-]{1,128}$", max_length=128)
]


class Negotiated(Response):
    """SignalR's redirect negotiate response: the hub URL and the caller's access token."""

    url: str
    accessToken: str = Field(description="Identifies the client as the caller's account.")


class Subscription(Request):
    """Instrument feeds to join or leave. With `connection_id`, that one connection (the
    @microsoft/signalr clients know theirs: `connection.connectionId`); without it, every
    connection of the caller's account, now and later (signalrcore never learns its id)."""

    connection_id: ConnectionId | None = None
    symbols: list[Symbol] = Field(min_length=1, max_length=50)
    feeds: list[FeedName] = Field(default=["trades", "book"], min_length=1, max_length=2)


class SubscriptionOut(Response):
    connection_id: str | None
    user_id: str | None
    groups: list[str]


class FeedState(Response):
    """Where a stream is now: its epoch and the last sequence number handed out."""

    stream: str
    epoch: str
    seq: int
