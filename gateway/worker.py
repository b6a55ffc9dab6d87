"""One venue held by this gateway: its connector, its requests, its connection record.

The worker exists while this gateway holds the venue's session on VENUES_QUEUE (the lease):
it receives the venue's requests in order, sends each once, completes the message only
after the connector took it, and keeps the session lock renewed. A lost lock stops the
connector at once: another gateway may hold the venue now.

Retries never make a second order: every request carries our id as the venue's client id,
and when the outcome of a send is unknown (the message came back after a crash, or no answer
arrived within `ack_timeout`) the worker first asks the venue for the order's status and
sends again (flagged as a possible resend) only if the venue does not know it.

Reconciliation: each time the connection comes up (the first logon, and every one after a
disconnect or a restart), the worker asks the venue for every order it holds open (FIX
OrderMassStatusRequest, the REST listing) and feeds each answer to the sink, so the
instrument's writer compares it with what it holds: an order the venue took while its
answer was lost is accepted, one it ended is ended, fills it lacks are raised to admins,
and an order the venue knows and we do not is reported (issue #18). Fills missed during an
outage come back through the session-level resend (FIX keeps its sequence numbers across
reconnects and restarts), each applied once by its cumulative quantity. Each change of the
connection's state is stored for `GET /api/admin/venues`; the venue coming up or failing is
told to `watch` (the gateway records it for admins: shared.services.venue_connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.gateway_messages import VENUE_CHANGED, VENUE_DELETED, VENUE_NOTICES, decode
from shared.ports.bus import BusMessage, SessionReceiver
from shared.ports.store_venues import VenueConnection, VenueDefinition, VenueRepository
from shared.ports.venue import (
    ConnectionState,
    ReportSink,
    VenueConnector,
    VenueOrder,
    VenueReport,
    VenueRequest,
    VenueThrottled,
    VenueUnavailable,
)

log = logging.getLogger(__name__)

MALFORMED = "MalformedGatewayMessage"
WRONG_VENUE = "WrongVenue"
UNKNOWN_ORDER = "5"
NS = 1_000_000_000


class VenueRedefined(Exception):
    """The venue's definition changed or it was deleted: this worker lets it go (and the
    gateway takes it again with the new definition, if there is one)."""


ConnectionWatch = Callable[[VenueConnection], Awaitable[object]]
"""Told when a venue's connection comes up, or fails, after admins were last told otherwise
(see VenueWorker._tell_if_news): the connection as stored now."""


def _connection(venue: VenueDefinition | None) -> VenueDefinition | None:
    """What the connection depends on (not the version or a DELETE's mark)."""
    return None if venue is None else dataclasses.replace(venue, version=0, deleting=False)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    batch_size: int = 64
    receive_wait: float = 1.0
    renew_every: float = 10.0
    status_every: float = 15.0
    ack_timeout: float = 10.0
    status_timeout: float = 5.0
    retry_every: float = 1.0


class VenueWorker:
    """Runs one venue's connector while its session receiver holds the lease."""

    def __init__(
        self,
        venue: VenueDefinition,
        receiver: SessionReceiver,
        connector: VenueConnector,
        sink: ReportSink,
        venues: VenueRepository,
        owner: str,
        config: WorkerConfig,
        clock: Callable[[], int] = time.time_ns,
        watch: ConnectionWatch | None = None,
    ) -> None:
        self.venue = venue
        self._watch = watch
        self.receiver = receiver
        self.connector = connector
        self._sink = sink
        self._venues = venues
        self._owner = owner
        self._config = config
        self._clock = clock
        self._awaiting: dict[str, tuple[str, VenueRequest, int]] = {}  # cl_ord_id -> sent
        self._reported: tuple[ConnectionState, str | None] | None = None
        self._told_up: bool | None = None  # what admins last heard (None: nothing yet)
        self._reported_at = 0
        self._renewed_at = 0
        self._reconciled = False  # since the connection last came up
        self._reconcile_tried_at = -(1 << 62)
        self.sent = 0
        self.reconciliations = 0

    @property
    def name(self) -> str:
        return self.venue.name

    async def _take(self, report: VenueReport) -> None:
        """The connector's sink: an answer settles the request it answers."""
        self._awaiting.pop(report.cl_ord_id, None)
        await self._sink(report)

    async def run(self, stopping: asyncio.Event) -> None:
        """Connect and serve the venue until `stopping` or the lease is lost (raises)."""
        self._renewed_at = self._clock()
        self._told_up = await self._stored_up()
        await self.connector.start(self._take)
        try:
            while not stopping.is_set():
                messages = await self.receiver.receive(
                    self._config.batch_size, max_wait=self._config.receive_wait
                )
                for message in messages:
                    await self._handle(message, stopping)
                    if stopping.is_set():
                        break
                await self._maintain()
        finally:
            await self.connector.stop()
            with contextlib.suppress(Exception):  # a planned stop (or handover): not news
                await self._report_connection(force=True, tell=False)

    async def _maintain(self) -> None:
        await self._renew_if_due()
        await self._report_connection()
        await self._reconcile_if_due()
        await self._check_unanswered()

    async def _reconcile_if_due(self) -> None:
        """Once per connection: every order the venue holds open, to the sink."""
        if self.connector.connection.state is not ConnectionState.CONNECTED:
            self._reconciled = False
            self._reconcile_tried_at = -(1 << 62)
            return
        now = self._clock()
        if self._reconciled or (now - self._reconcile_tried_at) / NS < self._config.status_every:
            return
        try:
            answers = await self.connector.open_orders(self._config.status_timeout)
        except (VenueUnavailable, VenueThrottled, TimeoutError) as error:
            log.warning("%s: reconciliation failed (%r); trying again later", self.name, error)
            self._reconcile_tried_at = now
            return
        for report in answers:
            await self._take(report)
        self._reconciled = True
        self.reconciliations += 1
        log.info("%s: reconciled %d open orders with the venue", self.name, len(answers))

    async def _renew_if_due(self) -> None:
        now = self._clock()
        if (now - self._renewed_at) / NS >= self._config.renew_every:
            await self.receiver.renew_lock()  # SessionLockLostError: the lease is gone
            self._renewed_at = now

    async def _report_connection(self, *, force: bool = False, tell: bool = True) -> None:
        status = self.connector.connection
        now = self._clock()
        current = (status.state, status.last_error)
        due = (now - self._reported_at) / NS >= self._config.status_every
        if force or current != self._reported or due:
            record = VenueConnection(self.name, status.state, status.last_error, now, self._owner)
            await self._venues.put_connection(record)
            self._reported, self._reported_at = current, now
            if tell:
                await self._tell_if_news(record)

    async def _stored_up(self) -> bool | None:
        """Whether the venue was connected as last stored (by this gateway or the one
        before): True, or None (admins heard nothing from this worker yet)."""
        try:
            stored = [c for c in await self._venues.connections() if c.name == self.name]
        except Exception:
            return None
        return True if stored and stored[0].state is ConnectionState.CONNECTED else None

    async def _tell_if_news(self, record: VenueConnection) -> None:
        """Admins hear the connection come up, or go, once each time it changes: lost (even
        if already reconnecting), back up, and a venue that is down when this worker starts
        once; not the back-off's steps while it stays down, nor a graceful handover."""
        if self._watch is None:
            return
        up = record.state is ConnectionState.CONNECTED
        if up:
            news = self._told_up is not True
        else:
            lost = self._told_up is True
            news = lost or (self._told_up is None and record.state is ConnectionState.DISCONNECTED)
        if not news:
            return
        self._told_up = up
        try:
            await self._watch(record)
        except Exception:  # the state is stored: admins still see it in the list
            log.warning("%s: the connection notice failed", self.name, exc_info=True)

    # ------------------------------------------------------------------ requests

    async def _handle(self, message: BusMessage, stopping: asyncio.Event) -> None:
        try:
            kind, venue, symbol, request = decode(message.body)
        except Exception as error:  # a body that is not a gateway message: set it aside
            await self.receiver.dead_letter(message, MALFORMED, repr(error)[:1000])
            return
        if venue != self.name:
            await self.receiver.dead_letter(message, WRONG_VENUE, f"{venue} on {self.name}")
            return
        if kind in VENUE_NOTICES or request is None:
            await self.receiver.complete(message)
            if kind in (VENUE_CHANGED, VENUE_DELETED):
                current = await self._venues.get(self.name)
                if _connection(current) != _connection(self.venue):
                    raise VenueRedefined(f"{self.name}: {kind.replace('_', ' ')}")
            return
        # We may have sent it before a crash, or the matcher sends it again after its own.
        ambiguous = message.delivery_count > 1 or request.resend
        # Held until sent: the venue's requests go out in the order they came.
        while not stopping.is_set():
            try:
                await self._send(kind, symbol, request, ambiguous)
                break
            except (VenueUnavailable, VenueThrottled, TimeoutError) as error:
                log.info("%s: %s waits (%s)", self.name, request.cl_ord_id, error)
                await self._maintain()
                await self._wait(stopping, self._config.retry_every)
        else:
            return  # stopping: the message goes back to the queue with the session
        await self.receiver.complete(message)

    async def _wait(self, stopping: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)

    async def _send(self, kind: str, symbol: str, request: VenueRequest, ambiguous: bool) -> None:
        if ambiguous and await self._venue_knows(request):
            return
        if ambiguous:
            request = _as_resend(request)
        self._awaiting[request.cl_ord_id] = (kind, request, self._clock())
        try:
            if kind == "place":
                assert isinstance(request, VenueOrder)
                await self.connector.place(request)
            elif kind == "cancel":
                await self.connector.cancel(request)  # type: ignore[arg-type]
            else:
                await self.connector.replace(request)  # type: ignore[arg-type]
        except BaseException:
            self._awaiting.pop(request.cl_ord_id, None)
            raise
        self.sent += 1

    async def _venue_knows(self, request: VenueRequest) -> bool:
        """Ask the venue about a request whose fate is unknown; its answer goes to the sink
        (the venue's view of the order) when it knows it."""
        status = await self.connector.status(
            request.cl_ord_id, request.symbol, request.side, self._config.status_timeout
        )
        if status.reject_code == UNKNOWN_ORDER or status.venue_order_id in ("", "NONE"):
            return False
        await self._take(status)
        return True

    async def _check_unanswered(self) -> None:
        """Requests the venue has not answered within `ack_timeout`: ask, then resend."""
        if not self._awaiting or self.connector.connection.state is not ConnectionState.CONNECTED:
            return
        now = self._clock()
        late = [
            (kind, request)
            for kind, request, sent in self._awaiting.values()
            if (now - sent) / NS >= self._config.ack_timeout
        ]
        for kind, request in late:
            log.warning("%s: no answer to %s; asking the venue", self.name, request.cl_ord_id)
            try:
                await self._send(kind, request.symbol, request, ambiguous=True)
            except (VenueUnavailable, VenueThrottled, TimeoutError):
                return  # the next round tries again


def _as_resend(request: VenueRequest) -> VenueRequest:
    return dataclasses.replace(request, resend=True)
