"""The FIX 4.4 venue connector: an initiator on QuickFIX, driven from asyncio.

Threads: QuickFIX runs the session on a thread of its own (reading, heartbeats, resends)
and calls `FixApplication` there; everything we ask of QuickFIX (send, log on, log off) runs
on one executor thread of this connector, in order, so the event loop never waits on a
socket or the message store. Reports cross to the loop with `run_coroutine_threadsafe`, and
QuickFIX's thread waits until the sink took each one (see `gateway.fix.session`).

Session state (sequence numbers and every message sent) lives in QuickFIX's FileStore under
the venue's folder, and no side resets sequence numbers on logon: after any disconnect the
session layer resends what either side missed, and the venue's resent reports arrive here
with PossDupFlag=Y. Reconnecting backs off exponentially: QuickFIX retries every second
while the session is enabled, and the supervisor disables it between attempts.

Our resend policy (the venue asked for messages it missed): cancels always go again; a new
order or a replace older than `resend_max_age` does not (QuickFIX sends a gap fill instead)
and the sink gets an UNDELIVERED report for it, so the order is not left hanging.

With a `DurableSession` the sequence numbers are also kept in the store (see
`gateway.fix.durable`): restored into QuickFIX's store before the first logon when the local
one is missing or stale, reserved a block ahead of the session, synced every second.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import quickfix as fix

from gateway.fix import codec
from gateway.fix.answers import StatusAnswers, business_reject, not_resent
from gateway.fix.durable import DurableSession, LocalSession, created_at, read_local
from gateway.fix.session import (
    Bridge,
    FixApplication,
    Initiator,
    SessionConfig,
    build_message,
    diagnose,
)
from gateway.ratelimit import TokenBucket
from shared.domain.enums import Side
from shared.ports.venue import (
    ConnectionState,
    ConnectionStatus,
    ReportKind,
    ReportSink,
    VenueCancel,
    VenueOrder,
    VenueReplace,
    VenueReport,
    VenueRequest,
    VenueUnavailable,
)

log = logging.getLogger(__name__)

NS = 1_000_000_000


@dataclass(slots=True)
class _Pending:
    """A request sent and not answered yet (for throttling retries)."""

    request: VenueRequest
    attempts: int = 1


class FixConnector:
    """The VenueConnector for a FIX 4.4 venue."""

    def __init__(
        self,
        name: str,
        config: SessionConfig,
        *,
        username: str | None = None,
        password: str | None = None,
        bucket: TokenBucket | None = None,
        clock: Callable[[], int] = time.time_ns,
        resend_max_age: float = 30.0,
        logon_timeout: float = 10.0,
        first_backoff: float = 1.0,
        max_backoff: float = 60.0,
        throttle_retries: int = 5,
        durable: DurableSession | None = None,
    ) -> None:
        self._name = name
        self._config = config
        self._username = username
        self._password = password
        self._bucket = bucket or TokenBucket(50, 100)
        self._clock = clock
        self._resend_max_age = resend_max_age
        self._logon_timeout = logon_timeout
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._throttle_retries = throttle_retries
        self._status = ConnectionStatus(ConnectionState.DISCONNECTED, None, clock())
        self._session_id = config.session_id()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._initiator: Initiator | None = None
        self._sink: ReportSink | None = None
        self._logged_on = asyncio.Event()
        self._logged_out = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: dict[str, _Pending] = {}
        self._answers = StatusAnswers()
        self._durable = durable
        self._reserving = False
        self.reconnects = 0

    # ------------------------------------------------------------------ the port

    @property
    def name(self) -> str:
        return self._name

    @property
    def connection(self) -> ConnectionStatus:
        return self._status

    async def start(self, sink: ReportSink) -> None:
        if self._loop is not None:
            raise RuntimeError(f"{self._name}: already started")
        self._loop = asyncio.get_running_loop()
        self._sink = sink
        self._executor = concurrent.futures.ThreadPoolExecutor(1, f"fix-{self._name}")
        bridge = Bridge(
            self._on_logon_thread,
            self._on_logout_thread,
            self._on_message_thread,
            self._on_resend_thread,
            lambda: (self._username, self._password),
            self._on_sending_thread,
        )
        self._set_state(ConnectionState.CONNECTING)
        if self._durable is not None:
            await self._durable.restore(self._config, self._call)
        self._initiator = await self._call(self._create_initiator, bridge)
        self._supervisor = asyncio.create_task(self._supervise(), name=f"fix-{self._name}")
        if self._durable is not None:
            self._spawn(self._sync_every(self._durable))

    def _create_initiator(self, bridge: Bridge) -> Initiator:
        return Initiator.start(self._config, FixApplication(bridge), f"quickfix-{self._name}")

    def _destroy_initiator(self) -> None:
        initiator, self._initiator = self._initiator, None
        if initiator is not None:
            initiator.free(self._session_id)

    async def stop(self) -> None:
        if self._stopping or self._loop is None:
            return
        self._stopping = True
        tasks = [t for t in (self._supervisor, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        # Logs out and joins QuickFIX's thread; a blocked fromApp sees _stopping.
        await self._call(self._destroy_initiator)
        if self._durable is not None:
            try:
                await self._durable.sync(await self._call(read_local, self._config))
            except Exception:
                log.exception("%s: the session state was not saved at the stop", self._name)
        self._answers.fail_all(VenueUnavailable(f"{self._name}: stopped"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._set_state(ConnectionState.DISCONNECTED, self._status.last_error)

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._logged_on.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def place(self, order: VenueOrder) -> None:
        await self._request(order)

    async def cancel(self, request: VenueCancel) -> None:
        await self._request(request)

    async def replace(self, request: VenueReplace) -> None:
        await self._request(request)

    async def status(self, cl_ord_id: str, symbol: str, side: Side, timeout: float) -> VenueReport:
        self._require_logged_on()
        assert self._loop is not None
        request_id, answer = self._answers.ask_one(self._loop)
        try:
            fields = codec.order_status_request(request_id, cl_ord_id, symbol, side)
            await self._send(codec.ORDER_STATUS_REQUEST, fields)
            return await asyncio.wait_for(answer, timeout)
        finally:
            self._answers.forget(request_id)

    async def open_orders(self, timeout: float) -> list[VenueReport]:
        self._require_logged_on()
        assert self._loop is not None
        request_id, answers = self._answers.ask_all(self._loop)
        try:
            fields = codec.order_mass_status_request(request_id)
            await self._send(codec.ORDER_MASS_STATUS_REQUEST, fields)
            return await asyncio.wait_for(answers, timeout)
        finally:
            self._answers.forget(request_id)

    # ------------------------------------------------------------------ sending

    def _require_logged_on(self) -> None:
        if self._stopping or not self._logged_on.is_set():
            raise VenueUnavailable(f"{self._name}: not connected ({self._status.state})")

    async def _call(self, function: Callable[..., Any], *args: Any) -> Any:
        assert self._loop is not None and self._executor is not None
        return await self._loop.run_in_executor(self._executor, function, *args)

    def _send_now(self, msg_type: str, fields: codec.Fields) -> bool:
        return bool(fix.Session.sendToTarget(build_message(msg_type, fields), self._session_id))

    async def _send(self, msg_type: str, fields: codec.Fields) -> None:
        """Send one message. Once QuickFIX has it, it is in the session's store: a message
        the connection drops under is resent by the session layer after the next logon."""
        await self._bucket.take()
        self._require_logged_on()
        if not await self._call(self._send_now, msg_type, fields):
            raise VenueUnavailable(f"{self._name}: not sent (no sequence number reserved)")

    async def _request(self, request: VenueRequest) -> None:
        self._require_logged_on()
        self._pending.setdefault(request.cl_ord_id, _Pending(request))
        await self._send(*codec.request_message(request))

    def _retry_throttled(self, cl_ord_id: str) -> bool:
        """Send a throttled request again after the back-off; False when out of tries."""
        pending = self._pending.get(cl_ord_id)
        if pending is None or pending.attempts > self._throttle_retries:
            return False
        pending.attempts += 1
        pause = self._bucket.back_off()
        log.warning("%s: throttled on %s; again in %.1f s", self._name, cl_ord_id, pause)
        msg_type, fields = codec.request_message(dataclasses.replace(pending.request, resend=True))

        async def again() -> None:
            try:
                await self._send(msg_type, fields)
            except VenueUnavailable:
                log.warning("%s: %s not resent (disconnected)", self._name, cl_ord_id)

        self._spawn(again())
        return True

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ durable numbers

    def _on_sending_thread(self, seq: int, application: bool) -> bool:
        """On the thread sending message `seq` (QuickFIX's or ours): below the floor it
        goes; within half a block of it the next block is reserved in the background; at
        the floor it waits for that write. An application message is dropped (the request
        raises VenueUnavailable) if the store cannot be written; an administrative one
        waits for it, unless we are stopping."""
        durable, loop = self._durable, self._loop
        if durable is None or loop is None or seq + durable.block // 2 < durable.floor:
            return True
        if seq < durable.floor:
            loop.call_soon_threadsafe(self._reserve_soon, seq)
            return True
        while not self._wait_on_loop(durable.reserve(seq)):
            if application or self._stopping:
                log.error("%s: sequence number %d not reserved", self._name, seq)
                return False
            time.sleep(0.2)
        return True

    def _reserve_soon(self, seq: int) -> None:
        if self._reserving or self._durable is None:
            return
        self._reserving = True
        durable = self._durable

        async def reserve() -> None:
            try:
                await durable.reserve(seq)
            except Exception:
                log.exception("%s: reserving sequence numbers failed", self._name)
            finally:
                self._reserving = False

        self._spawn(reserve())

    def _numbers(self) -> LocalSession | None:
        session = self._session()
        if session is None:
            return None
        return LocalSession(
            int(session.getExpectedSenderNum()),
            int(session.getExpectedTargetNum()),
            created_at(self._config),
        )

    async def _sync_every(self, durable: DurableSession) -> None:
        """Write the session's numbers to the store when they moved (lazily: see
        gateway.fix.durable)."""
        while not self._stopping:
            await asyncio.sleep(durable.sync_every)
            try:
                numbers = self._numbers()
                if numbers is not None:
                    await durable.sync(numbers)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: the session state was not saved; trying again", self._name)

    # ------------------------------------------------------------------ connection

    def _set_state(self, state: ConnectionState, error: str | None = None) -> None:
        keep = error if error is not None else self._status.last_error
        if state is not self._status.state or keep != self._status.last_error:
            self._status = ConnectionStatus(state, keep, self._clock())

    def _on_logon_thread(self) -> None:
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._on_logon)

    def _on_logout_thread(self, text: str) -> None:
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._on_logout, text)

    def _on_logon(self) -> None:
        log.info("%s: logged on", self._name)
        self._logged_out.clear()
        self._logged_on.set()
        self._set_state(ConnectionState.CONNECTED)

    def _on_logout(self, text: str) -> None:
        log.warning("%s: logged out%s", self._name, f" ({text})" if text else "")
        self._logged_on.clear()
        self._logged_out.set()
        if text and not self._stopping:
            self._set_state(self._status.state, text)

    def _session(self) -> Any:
        return fix.Session.lookupSession(self._session_id)

    def _enable(self, enabled: bool) -> None:
        session = self._session()
        if session is None:
            return
        if enabled:
            session.logon()
        elif session.isEnabled() and not session.isLoggedOn():
            session.logout()

    async def _supervise(self) -> None:
        """Connected -> wait for the logout; not connected in time -> back off, retry."""
        backoff = self._first_backoff
        while not self._stopping:
            if not self._logged_on.is_set():
                self._set_state(ConnectionState.CONNECTING)
            if await self.wait_connected(self._logon_timeout):
                if self._stopping:
                    return
                self._set_state(ConnectionState.CONNECTED)
                backoff = self._first_backoff
                await self._logged_out.wait()
                if self._stopping:
                    return
                self.reconnects += 1
                self._set_state(ConnectionState.DISCONNECTED)
                # The first retry is at once (QuickFIX reconnects within a second).
                continue
            error = self._status.last_error if self._logged_out.is_set() else None
            self._logged_out.clear()
            reason = error or await diagnose(self._config.host, self._config.port)
            self._set_state(ConnectionState.DISCONNECTED, reason)
            await self._call(self._enable, False)
            log.warning(
                "%s: not connected (%s); next try in %.0f s",
                self._name,
                self._status.last_error,
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(self._max_backoff, backoff * 2)
            await self._call(self._enable, True)

    # ------------------------------------------------------------------ receiving

    def _on_message_thread(self, raw: str) -> bool:
        """On QuickFIX's thread: hand the message to the loop and wait until taken."""
        return self._wait_on_loop(self._take(raw))

    def _on_resend_thread(self, raw: str) -> bool:
        """On QuickFIX's thread, while resending our messages the venue asked for."""
        report = not_resent(self._name, raw, self._clock(), self._resend_max_age)
        if report is None:
            return True
        self._wait_on_loop(self._deliver(report))
        return False

    def _wait_on_loop(self, coroutine: Any) -> bool:
        loop = self._loop
        if loop is None or self._stopping:
            coroutine.close()
            return False
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        while True:
            try:
                return bool(future.result(timeout=0.5))
            except concurrent.futures.TimeoutError:
                if self._stopping:
                    future.cancel()
                    return False
            except Exception:
                log.exception("%s: a report was not taken", self._name)
                return False

    async def _take(self, raw: str) -> bool:
        fields = codec.parse(raw)
        msg_type = fields.get(codec.MSG_TYPE)
        if msg_type == codec.EXECUTION_REPORT:
            report = codec.execution_report(self._name, fields)
        elif msg_type == codec.ORDER_CANCEL_REJECT:
            report = codec.order_cancel_reject(self._name, fields)
        elif msg_type == codec.BUSINESS_MESSAGE_REJECT:
            maybe = self._business_reject(fields)
            if maybe is None:
                return True
            report = maybe
        else:
            log.warning("%s: ignored application message type %s", self._name, msg_type)
            return True
        if report.kind is ReportKind.STATUS and self._answers.answer(report, fields):
            return True
        if report.kind in (ReportKind.REJECTED, ReportKind.CANCEL_REJECTED) and codec.is_throttle(
            report.text
        ):
            if self._retry_throttled(report.cl_ord_id):
                return True
        elif report.cl_ord_id in self._pending:
            self._bucket.relax()
        self._pending.pop(report.cl_ord_id, None)
        return await self._deliver(report)

    def _business_reject(self, fields: dict[int, str]) -> VenueReport | None:
        cl_ord_id = fields.get(codec.BUSINESS_REJECT_REF_ID, "")
        if codec.is_throttle(fields.get(codec.TEXT, "")) and self._retry_throttled(cl_ord_id):
            return None
        pending = self._pending.get(cl_ord_id)
        report = business_reject(self._name, fields, pending.request if pending else None)
        if report is None:
            log.warning("%s: business reject: %s", self._name, fields.get(codec.TEXT, ""))
        return report

    async def _deliver(self, report: VenueReport) -> bool:
        """Hand the report to the sink; retry while it fails, until stopping."""
        sink = self._sink
        assert sink is not None
        pause = 0.05
        while not self._stopping:
            try:
                await sink(report)
                return True
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: the sink refused %s; retrying", self._name, report.exec_id)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
        return False
