"""The gateway service: takes the venues it can hold and runs a VenueWorker for each.

A venue is held by holding its session on VENUES_QUEUE (session id = venue name): Service
Bus (and the in-memory bus) lets one receiver lock a session at a time, so of several
gateway replicas exactly one owns a venue's connection, with no coordination service. Each
round the service tries to lock the named session of every defined venue it does not hold
(up to GATEWAY_MAX_VENUES), and waits for any session with messages (a `venue_defined`
message makes a new venue's session available at once).

Dependencies come in through the constructor, so the local run can run the service
in-process on the shared in-memory bus; `python -m gateway` builds them from settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.fix.connector import FixConnector
from gateway.fix.durable import DurableSession, session_key
from gateway.fix.session import SessionConfig
from gateway.ratelimit import TokenBucket
from gateway.worker import ConnectionWatch, VenueRedefined, VenueWorker, WorkerConfig
from shared.config.settings import Settings
from shared.ports.bus import (
    Bus,
    BusError,
    MessageLockLostError,
    SessionLockLostError,
    SessionReceiver,
)
from shared.ports.store import Store
from shared.ports.store_venues import (
    VenueConnection,
    VenueDefinition,
    VenueKind,
    VenueRepository,
)
from shared.ports.venue import ConnectionState, ReportSink, VenueConnector, VenueReport
from shared.venue_messages import bus_sink

log = logging.getLogger(__name__)
audit = logging.getLogger("audit")

ConnectorFactory = Callable[[VenueDefinition, Path], VenueConnector]
SinkFactory = Callable[[VenueDefinition], ReportSink]


class MissingCredential(Exception):
    """A venue names a setting that is not in this gateway's environment."""


def fix_connector_factory(
    environ: Mapping[str, str] = os.environ, sessions: VenueRepository | None = None
) -> ConnectorFactory:
    """Connectors for FIX venues; credentials read from `environ` by setting name. With
    `sessions`, each session's sequence numbers are kept there too, so another replica
    continues the session (see gateway.fix.durable)."""

    def build(venue: VenueDefinition, state_dir: Path) -> VenueConnector:
        if venue.kind is not VenueKind.FIX or venue.fix is None:
            raise ValueError(f"{venue.name}: no connector for kind {venue.kind.value}")
        password = _setting(environ, venue, "password")
        fix = venue.fix
        config = SessionConfig(
            host=fix.host,
            port=fix.port,
            sender_comp_id=fix.sender_comp_id,
            target_comp_id=fix.target_comp_id,
            store_dir=state_dir / venue.name,
            begin_string=fix.begin_string,
            heartbeat_seconds=fix.heartbeat_seconds,
            session_start=fix.session_start,
            session_end=fix.session_end,
        )
        bucket = TokenBucket(venue.rate_per_second, venue.burst)
        durable = None
        if sessions is not None:
            durable = DurableSession(sessions, session_key(venue.name, config))
        return FixConnector(
            venue.name,
            config,
            username=fix.username,
            password=password,
            bucket=bucket,
            durable=durable,
        )

    return build


def _setting(environ: Mapping[str, str], venue: VenueDefinition, role: str) -> str | None:
    setting = venue.credential(role)
    if setting is None:
        return None
    value = environ.get(setting)
    if not value:
        raise MissingCredential(f"the setting {setting} (the {role}) is not set")
    return value


def alpaca_connector(venue: VenueDefinition, environ: Mapping[str, str]) -> VenueConnector:
    """An Alpaca account's connector; its keys read from `environ` by setting name."""
    # alpaca-py is in the gateway's requirements only (requirements-gateway.txt).
    from gateway.alpaca.connector import AlpacaConnector

    settings = venue.alpaca
    if venue.kind is not VenueKind.ALPACA or settings is None:
        raise ValueError(f"{venue.name}: not an Alpaca venue")
    key_id, secret_key = _setting(environ, venue, "key_id"), _setting(environ, venue, "secret_key")
    if key_id is None or secret_key is None:
        raise MissingCredential("an Alpaca venue names the settings of both its keys")
    return AlpacaConnector(
        venue.name,
        key_id,
        secret_key,
        environment=settings.environment,
        base_url=settings.base_url,
        bucket=TokenBucket(venue.rate_per_second, venue.burst),
    )


def venue_connector_factory(
    environ: Mapping[str, str] = os.environ, sessions: VenueRepository | None = None
) -> ConnectorFactory:
    """Connectors for every kind of venue (FIX, Alpaca)."""
    fix = fix_connector_factory(environ, sessions)

    def build(venue: VenueDefinition, state_dir: Path) -> VenueConnector:
        if venue.kind is VenueKind.ALPACA:
            return alpaca_connector(venue, environ)
        return fix(venue, state_dir)

    return build


def audit_sink(venue: VenueDefinition) -> ReportSink:
    """Phase one's sink: every report is an audit line (the instrument sessions take them
    once external orders are routed through the matcher)."""

    async def sink(report: VenueReport) -> None:
        audit.info(
            "venue %s: %s %s exec %s status %s cum %s%s",
            report.venue,
            report.kind.value,
            report.cl_ord_id,
            report.exec_id,
            report.ord_status.value,
            report.cum_qty,
            f" ({report.text})" if report.text else "",
        )

    return sink


def bus_sinks(store: Store, bus: Bus, orders_queue: str) -> SinkFactory:
    """The sinks `python -m gateway` and the local run use: each report as a `venue_report`
    command on its instrument's session (shared.venue_messages), applied by the matcher."""

    def build(venue: VenueDefinition) -> ReportSink:
        return bus_sink(venue.name, bus, orders_queue, store.instruments, store.orders)

    return build


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    venues_queue: str = "venues"
    max_venues: int = 16
    state_dir: Path = Path(".oms-data/gateway")
    scan_every: float = 5.0
    retry_failed_after: float = 30.0
    owner: str = ""
    worker: WorkerConfig = field(default_factory=WorkerConfig)


def gateway_config(settings: Settings, **overrides: object) -> GatewayConfig:
    values: dict[str, object] = {
        "venues_queue": settings.VENUES_QUEUE,
        "max_venues": settings.GATEWAY_MAX_VENUES,
        "state_dir": settings.GATEWAY_STATE_DIR or Path(settings.OMS_DATA_DIR) / "gateway",
        "owner": f"{socket.gethostname()}:{os.getpid()}",
    }
    values.update(overrides)
    return GatewayConfig(**values)  # type: ignore[arg-type]


class GatewayService:
    """Holds venues' sessions and runs their workers until stopped."""

    def __init__(
        self,
        store: Store,
        bus: Bus,
        config: GatewayConfig,
        *,
        connectors: ConnectorFactory | None = None,
        sinks: SinkFactory = audit_sink,
        clock: Callable[[], int] = time.time_ns,
        watch: ConnectionWatch | None = None,
    ) -> None:
        self._store = store
        self._watch = watch
        self._bus = bus
        self.config = config
        self._connectors = connectors or venue_connector_factory(sessions=store.venues)
        self._sinks = sinks
        self._clock = clock
        self.workers: dict[str, VenueWorker] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._failed_at: dict[str, int] = {}
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._started = False

    @property
    def healthy(self) -> bool:
        return self._started and not self._stopping.is_set()

    async def start(self) -> None:
        if self._started:
            raise RuntimeError("the gateway is already started")
        self._started = True
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self._loop_task = asyncio.create_task(self._run(), name="gateway")
        log.info("gateway %s started (up to %d venues)", self.config.owner, self.config.max_venues)

    def request_stop(self) -> None:
        self._stopping.set()

    async def stop(self) -> None:
        """Stop taking venues, stop every worker (they log out), release the sessions."""
        self._stopping.set()
        if self._loop_task is not None:
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def run_until_stopped(self) -> None:
        await self._stopping.wait()
        await self.stop()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._take_defined_venues()
                await self._take_woken_venue()
            except BusError:
                log.warning("gateway: taking venues failed; trying again", exc_info=True)
                await self._sleep(self.config.scan_every)

    def _room(self) -> bool:
        return len(self._tasks) < self.config.max_venues

    async def _take_defined_venues(self) -> None:
        now = self._clock()
        for venue in await self._store.venues.list_venues():
            if not self._room() or self._stopping.is_set():
                return
            if venue.name in self._tasks or self._backing_off(venue.name, now):
                continue
            receiver = await self._bus.accept_session(self.config.venues_queue, venue.name)
            if receiver is not None:
                await self._hold(venue, receiver)

    async def _take_woken_venue(self) -> None:
        if not self._room():
            await self._sleep(self.config.scan_every)
            return
        receiver = await self._bus.accept_session(
            self.config.venues_queue, max_wait=self.config.scan_every
        )
        if receiver is None:
            return
        venue = await self._store.venues.get(receiver.session_id)
        if venue is None or receiver.session_id in self._tasks:
            # Not (or no longer) defined: its messages go to the dead-letter queue.
            for message in await receiver.receive(100):
                await receiver.dead_letter(message, "UnknownVenue", receiver.session_id)
            await receiver.close()
            return
        if self._backing_off(venue.name, self._clock()):
            # Its session is free again (with the notice that woke it) until the wait is
            # over: let it go, and do not take it again at once.
            await receiver.close()
            await self._sleep(self.config.scan_every)
            return
        await self._hold(venue, receiver)

    def _backing_off(self, name: str, now: int) -> bool:
        """Whether the venue failed to connect less than `retry_failed_after` ago."""
        failed = self._failed_at.get(name)
        return failed is not None and (now - failed) / 1e9 < self.config.retry_failed_after

    async def _hold(self, venue: VenueDefinition, receiver: SessionReceiver) -> None:
        try:
            connector = self._connectors(venue, self.config.state_dir)
        except Exception as error:
            log.error("venue %s: cannot connect: %s", venue.name, error)
            self._failed_at[venue.name] = self._clock()
            record = VenueConnection(
                venue.name, ConnectionState.DISCONNECTED, str(error), self._clock(),
                self.config.owner,
            )  # fmt: skip
            with contextlib.suppress(Exception):
                await self._store.venues.put_connection(record)
            await receiver.close()
            return
        self._failed_at.pop(venue.name, None)
        worker = VenueWorker(
            venue,
            receiver,
            connector,
            self._sinks(venue),
            self._store.venues,
            self.config.owner,
            self.config.worker,
            self._clock,
            self._watch,
        )
        self.workers[venue.name] = worker
        self._tasks[venue.name] = asyncio.create_task(self._work(worker), name=venue.name)
        log.info("venue %s: held by %s", venue.name, self.config.owner)

    async def _work(self, worker: VenueWorker) -> None:
        try:
            await worker.run(self._stopping)
        except (SessionLockLostError, MessageLockLostError) as error:
            log.warning("venue %s: lease lost (%s); connection closed", worker.name, error)
        except VenueRedefined as change:
            log.info("%s; connection closed, the venue is taken again as now defined", change)
        except Exception:
            log.exception("venue %s: the worker failed; the venue will be taken again", worker.name)
            self._failed_at[worker.name] = self._clock()
        finally:
            self.workers.pop(worker.name, None)
            self._tasks.pop(worker.name, None)
            with contextlib.suppress(Exception):
                await worker.receiver.close()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
