"""The VenueConnector for an Alpaca trading account, on the official `alpaca-py`:
`TradingClient` for the REST API (orders, status, fills) and `TradingStream` for
`trade_updates`, both asked for raw JSON (their models hold prices as binary floats).

- Our order id is Alpaca's `client_order_id`: Alpaca refuses a second order with it, so a
  retry never makes two orders; that refusal reads as "already placed" (the order's status
  goes to the sink instead).
- An ambiguous outcome (no answer within `request_timeout`) is settled by asking for the
  order by client order id before anything is sent again.
- Requests take a token from the venue's bucket (Alpaca allows 200 a minute); a 429 backs
  the bucket off (doubling) and the request is tried again, `throttle_retries` times.
- Reports: the stream's events as they come (a fill's exec id is Alpaca's execution id).
  After every (re)connection of the stream the fills since the last one seen are read from
  the account's FILL activities and delivered flagged as possible repeats: the stream
  does not replay what it sent while we were away.
- Rejects, refused cancels and replaces come from the REST answers, with Alpaca's own
  message as the text. A replace answers with the new order; its REPLACED report has the
  exec id `replaced:<new order id>`, the same whether the answer or the stream's
  `replaced` event delivers it.

The SDK is synchronous over `requests`: its calls run on a small thread pool of the
connector's, never on the event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.stream import TradingStream

from gateway.alpaca import mapping
from gateway.alpaca.mapping import Json
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
    VenueThrottled,
    VenueUnavailable,
)

log = logging.getLogger(__name__)

NS = 1_000_000_000
NOT_UNIQUE = "client_order_id must be unique"


def stream_url(base_url: str) -> str:
    """An Alpaca-compatible API's `trade_updates` stream: `/stream` on the same host."""
    return base_url.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1) + (
        "/stream"
    )


class AlpacaConnector:
    """One Alpaca trading account as a venue."""

    def __init__(
        self,
        name: str,
        key_id: str,
        secret_key: str,
        *,
        environment: str = "paper",
        base_url: str | None = None,
        bucket: TokenBucket | None = None,
        request_timeout: float = 10.0,
        throttle_retries: int = 5,
        catch_up_seconds: float = 3600.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._name = name
        paper = environment != "live"
        self._trading = TradingClient(
            key_id, secret_key, paper=paper, raw_data=True, url_override=base_url
        )
        # 429s are ours to handle (the venue's token bucket backs off); the SDK would sleep
        # in its own loop otherwise.
        self._trading._retry = 0
        self._stream = TradingStream(
            key_id,
            secret_key,
            paper=paper,
            raw_data=True,
            url_override=stream_url(base_url) if base_url else None,  # type: ignore[arg-type]
        )
        self._bucket = bucket or TokenBucket(3, 10)
        self._timeout = request_timeout
        self._throttle_retries = throttle_retries
        self._clock = clock
        self._status = ConnectionStatus(ConnectionState.DISCONNECTED, None, clock())
        self._sink: ReportSink | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._stopping = False
        self._last_fill_at = clock() - int(catch_up_seconds * NS)
        self._client_ids: dict[str, str] = {}  # Alpaca order id -> client order id
        self._cancels: dict[str, str] = {}  # client order id -> our cancel request's id
        self._replaces: dict[str, str] = {}  # new client order id -> the one it replaced
        self.catch_ups = 0

    # ------------------------------------------------------------------ the port

    @property
    def name(self) -> str:
        return self._name

    @property
    def connection(self) -> ConnectionStatus:
        return self._status

    async def start(self, sink: ReportSink) -> None:
        if self._sink is not None:
            raise RuntimeError(f"{self._name}: already started")
        self._sink = sink
        self._executor = concurrent.futures.ThreadPoolExecutor(4, f"alpaca-{self._name}")
        self._stream.subscribe_trade_updates(self._on_update)
        self._set_state(ConnectionState.CONNECTING)
        self._tasks = [
            asyncio.create_task(
                self._stream._run_forever(),  # type: ignore[no-untyped-call]
                name=f"alpaca-{self._name}",
            ),
            asyncio.create_task(self._watch(), name=f"alpaca-watch-{self._name}"),
        ]

    async def stop(self) -> None:
        if self._stopping or self._sink is None:
            return
        self._stopping = True
        with contextlib.suppress(Exception):
            await self._stream.stop_ws()
        _, pending = await asyncio.wait(self._tasks, timeout=10)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
        with contextlib.suppress(Exception):
            await self._stream.close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._connected.clear()
        self._set_state(ConnectionState.DISCONNECTED)

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _require_stream(self) -> None:
        """Requests go out only while their answers can be heard: the stream does not
        replay what it sent before it was connected (VenueUnavailable: nothing sent)."""
        if self._stopping or not self._connected.is_set():
            raise VenueUnavailable(f"{self._name}: trade_updates not connected")

    async def place(self, order: VenueOrder) -> None:
        self._require_stream()
        body = mapping.order_body(order)
        try:
            await self._rest(self._trading.post, "/orders", body)
        except TimeoutError:
            # Placed or not? Ask before sending again (the same client order id anyway).
            if await self._known(order.cl_ord_id, order.symbol, order.side):
                return
            await self._rest(self._trading.post, "/orders", body)
        except APIError as error:
            if NOT_UNIQUE in _message(error):
                await self._known(order.cl_ord_id, order.symbol, order.side)
                return
            if _status_code(error) in (400, 403, 404, 422):
                await self._deliver(self._reject(order.cl_ord_id, order.symbol, error))
                return
            raise VenueUnavailable(f"{self._name}: {_message(error)}") from None

    async def cancel(self, request: VenueCancel) -> None:
        self._require_stream()
        order_id = request.venue_order_id or await self._order_id(request.orig_cl_ord_id)
        if order_id is None:
            await self._deliver(self._cancel_reject(request, "unknown order", "1"))
            return
        self._cancels[request.orig_cl_ord_id] = request.cl_ord_id
        try:
            await self._rest(self._trading.delete, f"/orders/{order_id}")
        except APIError as error:
            self._cancels.pop(request.orig_cl_ord_id, None)
            if _status_code(error) in (404, 422):
                await self._deliver(self._cancel_reject(request, _message(error), "0"))
                return
            raise VenueUnavailable(f"{self._name}: {_message(error)}") from None

    async def replace(self, request: VenueReplace) -> None:
        self._require_stream()
        order_id = request.venue_order_id or await self._order_id(request.orig_cl_ord_id)
        if order_id is None:
            await self._deliver(self._cancel_reject(request, "unknown order", "1"))
            return
        self._replaces[request.cl_ord_id] = request.orig_cl_ord_id
        try:
            new = await self._rest(
                self._trading.patch, f"/orders/{order_id}", mapping.replace_body(request)
            )
        except TimeoutError:
            known = await self._status_of(request.cl_ord_id)
            if known is None:
                raise
            new = known
        except APIError as error:
            if _status_code(error) in (400, 403, 404, 422):
                await self._deliver(self._cancel_reject(request, _message(error), "0"))
                return
            raise VenueUnavailable(f"{self._name}: {_message(error)}") from None
        await self._deliver(self._replaced(new, request.orig_cl_ord_id))

    async def status(self, cl_ord_id: str, symbol: str, side: Side, timeout: float) -> VenueReport:
        request_id = f"st-{uuid.uuid4().hex[:16]}"
        order = await asyncio.wait_for(self._status_of(cl_ord_id), timeout)
        if order is None:
            return VenueReport(
                venue=self._name,
                kind=ReportKind.STATUS,
                cl_ord_id=cl_ord_id,
                exec_id="0",
                ord_status=VenueOrdStatus.REJECTED,
                symbol=symbol,
                side=side,
                text="unknown order",
                reject_code=mapping.UNKNOWN_ORDER,
                request_id=request_id,
            )
        return mapping.order_report(
            self._name, order, ReportKind.STATUS, "0", request_id=request_id
        )

    async def open_orders(self, timeout: float) -> list[VenueReport]:
        request_id = f"ms-{uuid.uuid4().hex[:16]}"
        params = {"status": "open", "limit": 500, "direction": "asc"}
        orders = await asyncio.wait_for(self._rest(self._trading.get, "/orders", params), timeout)
        return [
            mapping.order_report(self._name, o, ReportKind.STATUS, "0", request_id=request_id)
            for o in orders or []
        ]

    async def fills_since(self, after_ns: int) -> list[VenueReport]:
        """Every fill after `after_ns` from the account's FILL activities, oldest first."""
        size = 100
        params: dict[str, object] = {"after": mapping.rfc3339(after_ns), "direction": "asc"}
        params["page_size"] = size
        reports = []
        while True:
            page = await self._rest(self._trading.get, "/account/activities/FILL", params) or []
            for activity in page:
                order = await self._order_by_id(str(activity.get("order_id", "")))
                reports.append(mapping.activity_report(self._name, activity, order or {}))
            if len(page) < size:
                return reports
            params = {**params, "page_token": page[-1]["id"]}

    # ------------------------------------------------------------------ REST

    async def _rest(self, function: Callable[..., Any], *args: Any) -> Any:
        """One SDK call on the pool: rate-limited, backed off and tried again on a 429;
        TimeoutError when no answer came in time (the outcome is unknown)."""
        loop = asyncio.get_running_loop()
        if self._executor is None or self._stopping:
            raise VenueUnavailable(f"{self._name}: not started")
        pause = 0.0
        for _ in range(self._throttle_retries + 1):
            await self._bucket.take()
            try:
                call = loop.run_in_executor(self._executor, function, *args)
                result = await asyncio.wait_for(call, self._timeout)
            except APIError as error:
                if _status_code(error) != 429:
                    self._bucket.relax()
                    raise
                pause = self._bucket.back_off()
                log.warning("%s: throttled (429); again in %.1f s", self._name, pause)
                continue
            self._bucket.relax()
            return result
        raise VenueThrottled(f"{self._name}: still throttled", pause)

    async def _status_of(self, cl_ord_id: str) -> Json | None:
        try:
            order: Json = await self._rest(
                self._trading.get, "/orders:by_client_order_id", {"client_order_id": cl_ord_id}
            )
        except APIError as error:
            if _status_code(error) == 404:
                return None
            raise
        self._client_ids[str(order.get("id"))] = cl_ord_id
        return order

    async def _order_by_id(self, order_id: str) -> Json | None:
        try:
            order: Json = await self._rest(self._trading.get, f"/orders/{order_id}")
        except APIError as error:
            if _status_code(error) == 404:
                return None
            raise
        self._client_ids[order_id] = str(order.get("client_order_id", ""))
        return order

    async def _order_id(self, cl_ord_id: str) -> str | None:
        for order_id, client_id in self._client_ids.items():
            if client_id == cl_ord_id:
                return order_id
        order = await self._status_of(cl_ord_id)
        return None if order is None else str(order.get("id"))

    async def _known(self, cl_ord_id: str, symbol: str, side: Side) -> bool:
        """Whether Alpaca has the order; if so its state goes to the sink."""
        report = await self.status(cl_ord_id, symbol, side, self._timeout)
        if report.reject_code == mapping.UNKNOWN_ORDER:
            return False
        await self._deliver(report)
        return True

    # ------------------------------------------------------------------ reports

    def _reject(self, cl_ord_id: str, symbol: str, error: APIError) -> VenueReport:
        return VenueReport(
            venue=self._name,
            kind=ReportKind.REJECTED,
            cl_ord_id=cl_ord_id,
            exec_id=f"rej:{cl_ord_id}",
            ord_status=VenueOrdStatus.REJECTED,
            symbol=symbol,
            text=_message(error),
            reject_code=_code(error),
            transact_time=self._clock(),
        )

    def _cancel_reject(
        self, request: VenueCancel | VenueReplace, text: str, code: str
    ) -> VenueReport:
        return VenueReport(
            venue=self._name,
            kind=ReportKind.CANCEL_REJECTED,
            cl_ord_id=request.cl_ord_id,
            exec_id=f"cxlrej:{request.cl_ord_id}",
            ord_status=VenueOrdStatus.UNKNOWN,
            symbol=request.symbol,
            orig_cl_ord_id=request.orig_cl_ord_id,
            text=text,
            reject_code=code,
            transact_time=self._clock(),
        )

    def _replaced(self, new: Json, orig_cl_ord_id: str) -> VenueReport:
        self._client_ids[str(new.get("id"))] = str(new.get("client_order_id", ""))
        return mapping.order_report(
            self._name,
            new,
            ReportKind.REPLACED,
            f"replaced:{new.get('id')}",
            orig_cl_ord_id=orig_cl_ord_id,
        )

    async def _on_update(self, message: Json) -> None:
        """The stream's handler: one `trade_updates` message."""
        data = message.get("data") if isinstance(message, dict) else None
        if not isinstance(data, dict):
            return
        report = mapping.trade_update_report(self._name, data)
        if report is None:
            log.warning("%s: trade update %r not understood", self._name, data.get("event"))
            return
        order = data.get("order") or {}
        self._client_ids[str(order.get("id"))] = report.cl_ord_id
        if report.kind is ReportKind.REPLACED:
            new_id = order.get("replaced_by")
            new = await self._order_by_id(str(new_id)) if new_id else None
            if new is None:
                return  # the replace's own answer reports it
            report = self._replaced(new, report.cl_ord_id)
        elif report.kind is ReportKind.CANCELED and report.cl_ord_id in self._cancels:
            cancel_id = self._cancels.pop(report.cl_ord_id)
            report = _with(report, cl_ord_id=cancel_id, orig_cl_ord_id=report.cl_ord_id)
        elif report.cl_ord_id in self._replaces and report.kind is not ReportKind.TRADE:
            report = _with(report, orig_cl_ord_id=self._replaces[report.cl_ord_id])
        if report.is_fill:
            self._last_fill_at = max(self._last_fill_at, report.transact_time)
        await self._deliver(report)

    async def _deliver(self, report: VenueReport) -> None:
        """Hand the report to the sink; retry while it fails, until stopping."""
        assert self._sink is not None
        pause = 0.05
        while not self._stopping:
            try:
                await self._sink(report)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: the sink refused %s; retrying", self._name, report.exec_id)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    # ------------------------------------------------------------------ connection

    def _set_state(self, state: ConnectionState, error: str | None = None) -> None:
        keep = error if error is not None else self._status.last_error
        if state is not self._status.state or keep != self._status.last_error:
            self._status = ConnectionStatus(state, keep, self._clock())

    async def _watch(self) -> None:
        """Follows the stream's connection (alpaca-py reconnects it with back-off) and
        reads the fills of every gap when it is back."""
        while not self._stopping:
            running = bool(self._stream._running)
            if running and not self._connected.is_set():
                self._connected.set()
                self._set_state(ConnectionState.CONNECTED)
                log.info("%s: trade_updates connected", self._name)
                await self._catch_up()
            elif not running and self._connected.is_set():
                self._connected.clear()
                self._set_state(ConnectionState.CONNECTING, "the trade_updates stream dropped")
            await asyncio.sleep(0.1)

    async def _catch_up(self) -> None:
        try:
            fills = await self.fills_since(self._last_fill_at)
        except Exception as error:
            log.warning("%s: fills since the gap not read (%s)", self._name, error)
            return
        self.catch_ups += 1
        for report in fills:
            self._last_fill_at = max(self._last_fill_at, report.transact_time)
            await self._deliver(report)


def _with(report: VenueReport, **changes: Any) -> VenueReport:
    return dataclasses.replace(report, **changes)


def _status_code(error: APIError) -> int | None:
    try:
        return int(error.status_code) if error.status_code is not None else None
    except (TypeError, ValueError):
        return None


def _message(error: APIError) -> str:
    try:
        return str(error.message)
    except Exception:
        return str(error)[:500]


def _code(error: APIError) -> str:
    try:
        return str(error.code)
    except Exception:
        return str(_status_code(error) or "")
