"""Live feeds: SignalR negotiate, instrument subscriptions, and the account stream's position.

A client connects with `POST /api/negotiate` (the SignalR clients call `{url}/negotiate` for
`withUrl("{base}/api")`), which redirects it to the hub with a token naming its account. Its
account's `orderUpdated` and `executionReported` messages reach it without subscribing; the
instrument feeds `trade` and `book` need `POST /api/subscriptions`.

Every message is `{"stream", "epoch", "seq", "data"}`. `seq` counts 1, 2, 3, ... per stream
within an `epoch`: an account stream's epoch and numbers are kept in the store, so they go
on across restarts and Function App instances; an instrument stream's epoch is the
publishing matcher process's (see shared.feeds.publisher). A client that sees a jump in
`seq` (after waiting a moment: two instances may push at once), or a new `epoch`, has
missed messages and re-syncs over REST:

- `account:{account_id}` (orderUpdated, executionReported): `GET /api/orders` (open orders, or
  `since` the last update it holds) and `GET /api/executions?since=...`. Each order carries its
  own per-order `seq`: keep the order with the higher one, so live messages that arrive while
  the REST pages load apply idempotently. Executions are keyed by `execution_id`.
  `GET /api/feeds/state` tells where the stream stands now (from the store, whichever
  instance answers), so a client that has just connected knows the next `seq` to expect.
- `trades:{symbol}` (trade): `GET /api/trades?symbol=...`; drop live trades whose `trade_id`
  it already holds (`data.seq` is the instrument's trade sequence, in the id too).
- `book:{symbol}` (book): each message is a whole L2 book, so the next one repairs a gap;
  `GET /api/book/{symbol}` gives the latest now. Both carry the instrument sequence they
  reflect (`seq`); ignore a live book older than the REST one.
- `admin` (auditRecorded, admins' accounts, joined with `POST /api/admin/subscriptions`): every
  audit entry as it is stored, admin actions and what an external venue said that no order
  of ours could take (`venue.unknown_venue_order`, ...); `GET /api/admin/audit?since=...`
  re-syncs, keyed by `audit_id` (an entry may be pushed twice, never stored twice), and
  `GET /api/admin/feeds/state` tells where the stream stands.

With no SignalR configured (no SIGNALR_ENDPOINT and no local hub) these routes answer 503.
"""

from __future__ import annotations

from typing import Final

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from functions.http.deps import AdminDep, CallerDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.problems import problem
from functions.schemas_feeds import FeedState, Negotiated, Subscription, SubscriptionOut
from shared.adapters.signalr_off import DiscardingNotifier
from shared.bootstrap import Container
from shared.domain import reasons
from shared.feeds.streams import ADMIN_STREAM, account_stream, instrument_groups
from shared.ports.notifier import NotifierError, UnknownConnectionError
from shared.services import admin_feed
from shared.services.errors import InvalidRequest, NotFound
from shared.services.queries import Instruments

router = APIRouter(prefix="/api", tags=["live feeds"])

LIVE_FEEDS_NOT_CONFIGURED: Final = "LIVE_FEEDS_NOT_CONFIGURED"
LIVE_FEEDS_UNAVAILABLE: Final = "LIVE_FEEDS_UNAVAILABLE"
UNKNOWN_CONNECTION: Final = "UNKNOWN_CONNECTION"


def _not_configured(container: Container) -> Response | None:
    if isinstance(container.notifier, DiscardingNotifier):
        detail = "live feeds are off: no SignalR endpoint is configured (SIGNALR_ENDPOINT)"
        return problem(503, LIVE_FEEDS_NOT_CONFIGURED, detail)
    return None


def _unavailable(error: NotifierError) -> Response:
    detail = f"SignalR did not answer; retry ({type(error).__name__})"
    return problem(503, LIVE_FEEDS_UNAVAILABLE, detail, headers={"Retry-After": "5"})


@router.post(
    "/negotiate",
    response_model=Negotiated,
    responses=errors(401, 503),
    summary="Where the caller's SignalR client connects, with a token naming its account",
)
async def negotiate(container: ContainerDep, caller: CallerDep) -> Response:
    if (refused := _not_configured(container)) is not None:
        return refused
    try:
        access = await container.notifier.client_access(caller.account_id)
    except NotifierError as error:
        return _unavailable(error)
    return json_response(orjson.dumps(access.negotiate_response()))


async def _groups(container: Container, body: Subscription) -> list[str]:
    instruments = Instruments(container)
    for index, symbol in enumerate(body.symbols):
        try:
            await instruments.get(symbol)
        except NotFound as error:
            field = f"symbols.{index}"
            raise InvalidRequest(reasons.UNKNOWN_INSTRUMENT, error.detail, field) from None
    return instrument_groups(body.symbols, list(body.feeds))


async def _change(
    container: Container, caller: CallerDep, body: Subscription, join: bool
) -> Response:
    if (refused := _not_configured(container)) is not None:
        return refused
    groups = await _groups(container, body)
    notifier = container.notifier
    connection, user = body.connection_id, caller.account_id
    try:
        for group in groups:
            if connection is None:
                if join:
                    await notifier.add_user_to_group(user, group)
                else:
                    await notifier.remove_user_from_group(user, group)
            elif join:
                await notifier.add_connection_to_group(connection, group)
            else:
                await notifier.remove_connection_from_group(connection, group)
    except UnknownConnectionError:
        detail = f"connection {connection} is not connected to the hub"
        return problem(422, UNKNOWN_CONNECTION, detail, "connection_id")
    except NotifierError as error:
        return _unavailable(error)
    out = SubscriptionOut(
        connection_id=connection, user_id=None if connection else user, groups=groups
    )
    return json_response(out.model_dump_json().encode())


@router.post(
    "/subscriptions",
    response_model=SubscriptionOut,
    responses=errors(401, 413, 422, 503),
    summary="Join instrument feeds (trades, book) with one connection or the caller's user",
)
async def subscribe(body: Subscription, container: ContainerDep, caller: CallerDep) -> Response:
    """Adds the connection (`connection_id`) or, without one, every connection of the caller's
    account (user-level: the way for clients such as signalrcore that never learn their
    connection id) to `trades:{symbol}` and/or `book:{symbol}`. Instrument feeds are public
    market data, so a connection id is not checked against the caller."""
    return await _change(container, caller, body, join=True)


@router.delete(
    "/subscriptions",
    response_model=SubscriptionOut,
    responses=errors(401, 413, 422, 503),
    summary="Leave instrument feeds (the same body as joining)",
)
async def unsubscribe(body: Subscription, container: ContainerDep, caller: CallerDep) -> Response:
    """Takes the connection or the caller's user out of the groups; leaving a group one is
    not in is not an error."""
    return await _change(container, caller, body, join=False)


@router.get(
    "/feeds/state",
    response_model=FeedState,
    responses=errors(401),
    summary="The caller's account stream: its epoch and last sequence number",
)
async def feed_state(container: ContainerDep, caller: CallerDep) -> FeedState:
    stream = account_stream(caller.account_id)
    position = await container.feeds.position(stream)
    return FeedState(stream=stream, epoch=position.epoch, seq=position.seq)


async def _admins(container: Container, caller: AdminDep, join: bool) -> Response:
    if (refused := _not_configured(container)) is not None:
        return refused
    try:
        if join:
            await admin_feed.join(container, caller)
        else:
            await admin_feed.leave(container, caller.account_id)
    except NotifierError as error:
        return _unavailable(error)
    out = SubscriptionOut(connection_id=None, user_id=caller.account_id, groups=[ADMIN_STREAM])
    return json_response(out.model_dump_json().encode())


@router.post(
    "/admin/subscriptions",
    response_model=SubscriptionOut,
    responses=errors(401, 403, 503),
    summary="Join the admin feed (auditRecorded) with every connection of the caller's account",
    tags=["admin"],
)
async def join_admin_feed(container: ContainerDep, caller: AdminDep) -> Response:
    """Admins only. Every audit entry is pushed to the admin group as `auditRecorded` with
    the entry as `GET /api/admin/audit` shows it. The group holds accounts, never single
    connections (a connection's owner cannot be checked on SignalR Service): the account's
    connections, now and later, hear it until it leaves or loses the admin role. No body."""
    return await _admins(container, caller, join=True)


@router.delete(
    "/admin/subscriptions",
    response_model=SubscriptionOut,
    responses=errors(401, 403, 503),
    summary="Leave the admin feed (every connection of the caller's account)",
    tags=["admin"],
)
async def leave_admin_feed(container: ContainerDep, caller: AdminDep) -> Response:
    return await _admins(container, caller, join=False)


@router.get(
    "/admin/feeds/state",
    response_model=FeedState,
    responses=errors(401, 403),
    summary="The admin stream: its epoch and last sequence number",
    tags=["admin"],
)
async def admin_feed_state(container: ContainerDep, caller: AdminDep) -> FeedState:
    position = await container.feeds.position(ADMIN_STREAM)
    return FeedState(stream=ADMIN_STREAM, epoch=position.epoch, seq=position.seq)
