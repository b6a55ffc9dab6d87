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
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import quickfix as fix

from gateway.fix import codec
from gateway.fix.session import Bridge, FixApplication, SessionConfig, build_message
from gateway.ratelimit import TokenBucket
from shared.domain.enums import Side
from shared.ports.venue import (
    ConnectionState,
    ConnectionStatus,
    ReportKind,
    ReportSink,
    VenueCancel,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
    VenueRequest,
    VenueUnavailable,
)

log = logging.getLogger(__name__)

NS = 1_000_000_000
_UNFREED: list[Any] = []  # initiators whose thread did not end (freeing them would crash)


@dataclass(slots=True)
class _Pending:
    """A request sent and not answered yet (for throttling retries)."""

    request: VenueRequest
    attempts: int = 1


@dataclass(slots=True)
class _MassStatus:
    future: asyncio.Future[list[VenueReport]]
    reports: list[VenueReport] = field(default_factory=list)


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
        self._initiator: Any = None
        self._thread: threading.Thread | None = None
        self._sink: ReportSink | None = None
        self._logged_on = asyncio.Event()
        self._logged_out = asyncio.Event()
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: dict[str, _Pending] = {}
        self._status_waiters: dict[str, asyncio.Future[VenueReport]] = {}
        self._mass: dict[str, _MassStatus] = {}
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
        )
        self._set_state(ConnectionState.CONNECTING)
        self._initiator = await self._call(self._create_initiator, bridge)
        self._supervisor = asyncio.create_task(self._supervise(), name=f"fix-{self._name}")

    def _create_initiator(self, bridge: Bridge) -> Any:
        settings = self._config.session_settings()
        application = FixApplication(bridge)
        initiator = fix.SocketInitiator(
            application, fix.FileStoreFactory(settings), settings, fix.FileLogFactory(settings)
        )
        # QuickFIX's loop on a thread we own (its Python `start()` makes one it never
        # joins): `_destroy_initiator` joins it before the initiator is freed.
        self._thread = threading.Thread(
            target=initiator.block, name=f"quickfix-{self._name}", daemon=True
        )
        self._thread.start()
        # `stop()` does nothing to an initiator whose loop has not begun: wait for it.
        deadline = time.monotonic() + 10
        while initiator.isStopped() and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        return initiator

    def _destroy_initiator(self) -> None:
        """Log out, stop QuickFIX's loop, and free the initiator: its sessions leave
        QuickFIX's process-wide registry, so the venue can be connected again later."""
        initiator, self._initiator = self._initiator, None
        if initiator is None:
            return
        # Log out and disable the session first: QuickFIX's stop() re-enables the sessions
        # it logs out itself, and its loop would then dial the venue once more.
        session = self._session()
        if session is not None:
            session.logout()
        initiator.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)
            if thread.is_alive():
                # Never free an initiator whose loop still runs: keep it for good.
                log.error("%s: QuickFIX's loop did not end; the initiator is kept", self._name)
                _UNFREED.append(initiator)
                return
        # Free it now, whatever still refers to it: an exception raised from a callback
        # (DoNotSend) leaks a traceback whose frames reach the initiator, and a live
        # initiator keeps its sessions in QuickFIX's process-wide registry, where a later
        # connection to the same venue would find them instead of its own.
        type(initiator).__swig_destroy__(initiator)

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
        waiters: list[asyncio.Future[Any]] = [*self._status_waiters.values()]
        waiters += [m.future for m in self._mass.values()]
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(VenueUnavailable(f"{self._name}: stopped"))
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
        await self._request(order.cl_ord_id, order, *codec.new_order_single(order))

    async def cancel(self, request: VenueCancel) -> None:
        await self._request(request.cl_ord_id, request, *codec.order_cancel_request(request))

    async def replace(self, request: VenueReplace) -> None:
        fields = codec.order_cancel_replace_request(request)
        await self._request(request.cl_ord_id, request, *fields)

    async def status(self, cl_ord_id: str, symbol: str, side: Side, timeout: float) -> VenueReport:
        self._require_logged_on()
        assert self._loop is not None
        request_id = f"st-{uuid.uuid4().hex[:16]}"
        waiter: asyncio.Future[VenueReport] = self._loop.create_future()
        self._status_waiters[request_id] = waiter
        try:
            fields = codec.order_status_request(request_id, cl_ord_id, symbol, side)
            await self._send(codec.ORDER_STATUS_REQUEST, fields)
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self._status_waiters.pop(request_id, None)

    async def open_orders(self, timeout: float) -> list[VenueReport]:
        self._require_logged_on()
        assert self._loop is not None
        request_id = f"ms-{uuid.uuid4().hex[:16]}"
        mass = _MassStatus(self._loop.create_future())
        self._mass[request_id] = mass
        try:
            fields = codec.order_mass_status_request(request_id)
            await self._send(codec.ORDER_MASS_STATUS_REQUEST, fields)
            return await asyncio.wait_for(mass.future, timeout)
        finally:
            self._mass.pop(request_id, None)

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
        await self._call(self._send_now, msg_type, fields)

    async def _request(
        self, cl_ord_id: str, request: VenueRequest, msg_type: str, fields: codec.Fields
    ) -> None:
        self._require_logged_on()
        pending = self._pending.get(cl_ord_id)
        if pending is None:
            self._pending[cl_ord_id] = _Pending(request)
        await self._send(msg_type, fields)

    def _retry_throttled(self, cl_ord_id: str) -> bool:
        """Send a throttled request again after the back-off; False when out of tries."""
        pending = self._pending.get(cl_ord_id)
        if pending is None or pending.attempts > self._throttle_retries:
            return False
        pending.attempts += 1
        pause = self._bucket.back_off()
        log.warning("%s: throttled on %s; again in %.1f s", self._name, cl_ord_id, pause)
        request = pending.request
        if isinstance(request, VenueOrder):
            msg_type, fields = codec.new_order_single(_resent(request))
        elif isinstance(request, VenueCancel):
            msg_type, fields = codec.order_cancel_request(_resent(request))
        else:
            msg_type, fields = codec.order_cancel_replace_request(_resent(request))

        async def again() -> None:
            try:
                await self._send(msg_type, fields)
            except VenueUnavailable:
                log.warning("%s: %s not resent (disconnected)", self._name, cl_ord_id)

        task = asyncio.create_task(again())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

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

    async def _diagnose(self) -> str:
        where = f"{self._config.host}:{self._config.port}"
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self._config.host, self._config.port), 3.0
            )
        except TimeoutError:
            return f"no answer from {where}"
        except OSError as error:
            return f"cannot connect to {where}: {error.strerror or error}"
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return f"{where} took the connection but no FIX logon followed"

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
            self._set_state(ConnectionState.DISCONNECTED, error or await self._diagnose())
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
        fields = codec.parse(raw)
        msg_type = fields.get(codec.MSG_TYPE)
        if msg_type not in (codec.NEW_ORDER_SINGLE, codec.ORDER_CANCEL_REPLACE_REQUEST):
            return True  # cancels and status requests always go again
        sent = codec.parse_utc_timestamp(fields.get(122, "") or fields.get(52, ""))
        if sent and (self._clock() - sent) / NS <= self._resend_max_age:
            return True
        report = VenueReport(
            venue=self._name,
            kind=ReportKind.UNDELIVERED,
            cl_ord_id=fields.get(codec.CL_ORD_ID, ""),
            exec_id=f"undelivered:{fields.get(codec.CL_ORD_ID, '')}",
            ord_status=VenueOrdStatus.UNKNOWN,
            symbol=fields.get(codec.SYMBOL, ""),
            orig_cl_ord_id=fields.get(codec.ORIG_CL_ORD_ID, ""),
            text=f"not resent: older than {self._resend_max_age:.0f} s when the venue asked",
            transact_time=self._clock(),
        )
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
        if report.kind is ReportKind.STATUS and self._answer(report, fields):
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
        """A BusinessMessageReject of one of our requests, as the request's reject."""
        ref_type = fields.get(codec.REF_MSG_TYPE, "")
        cl_ord_id = fields.get(codec.BUSINESS_REJECT_REF_ID, "")
        text = fields.get(codec.TEXT, "") or f"business reject {fields.get(380, '')}"
        if codec.is_throttle(text) and self._retry_throttled(cl_ord_id):
            return None
        if ref_type == codec.NEW_ORDER_SINGLE:
            kind, exec_id = ReportKind.REJECTED, f"bizrej:{cl_ord_id}"
        elif ref_type in (codec.ORDER_CANCEL_REQUEST, codec.ORDER_CANCEL_REPLACE_REQUEST):
            kind, exec_id = ReportKind.CANCEL_REJECTED, f"cxlrej:{cl_ord_id}"
        else:
            log.warning("%s: business reject of a %s: %s", self._name, ref_type, text)
            return None
        pending = self._pending.pop(cl_ord_id, None)
        request = pending.request if pending is not None else None
        return VenueReport(
            venue=self._name,
            kind=kind,
            cl_ord_id=cl_ord_id,
            exec_id=exec_id,
            ord_status=VenueOrdStatus.REJECTED
            if kind is ReportKind.REJECTED
            else (VenueOrdStatus.UNKNOWN),
            symbol=request.symbol if request is not None else "",
            orig_cl_ord_id=getattr(request, "orig_cl_ord_id", ""),
            text=text,
            reject_code=fields.get(codec.BUSINESS_REJECT_REASON, ""),
            poss_dup=fields.get(codec.POSS_DUP_FLAG) == "Y",
            seq_num=int(fields.get(codec.MSG_SEQ_NUM, "0") or 0),
        )

    def _answer(self, report: VenueReport, fields: dict[int, str]) -> bool:
        """A status answer we asked for: resolve the waiter (True), else False."""
        waiter = self._status_waiters.get(report.request_id)
        if waiter is None and not report.request_id:
            waiter = next(
                (w for w in self._status_waiters.values() if not w.done()),
                None,
            )
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(report)
            return True
        mass = self._mass.get(report.request_id)
        if mass is None:
            return False
        total = int(fields.get(codec.TOT_NUM_REPORTS, "0") or 0)
        if total > 0 and report.cl_ord_id:
            mass.reports.append(report)
        last = fields.get(codec.LAST_RPT_REQUESTED) == "Y"
        if (total == 0 or last or len(mass.reports) >= total) and not mass.future.done():
            mass.future.set_result(list(mass.reports))
        return True

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


def _resent(request: Any) -> Any:
    return dataclasses.replace(request, resend=True)
