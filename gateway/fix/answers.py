"""What the connector makes of some venue messages: status answers it waits for, business
rejects of its requests, and the requests it chooses not to resend. Loop-side, no I/O."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from gateway.fix import codec
from shared.ports.venue import ReportKind, VenueOrdStatus, VenueReport, VenueRequest

NS = 1_000_000_000


@dataclass(slots=True)
class _MassStatus:
    future: asyncio.Future[list[VenueReport]]
    reports: list[VenueReport] = field(default_factory=list)


class StatusAnswers:
    """Status and mass-status requests in flight, matched to their answers (ExecType I)."""

    def __init__(self) -> None:
        self._single: dict[str, asyncio.Future[VenueReport]] = {}
        self._mass: dict[str, _MassStatus] = {}

    def ask_one(self, loop: asyncio.AbstractEventLoop) -> tuple[str, asyncio.Future[VenueReport]]:
        request_id = f"st-{uuid.uuid4().hex[:16]}"
        future: asyncio.Future[VenueReport] = loop.create_future()
        self._single[request_id] = future
        return request_id, future

    def ask_all(
        self, loop: asyncio.AbstractEventLoop
    ) -> tuple[str, asyncio.Future[list[VenueReport]]]:
        request_id = f"ms-{uuid.uuid4().hex[:16]}"
        mass = _MassStatus(loop.create_future())
        self._mass[request_id] = mass
        return request_id, mass.future

    def forget(self, request_id: str) -> None:
        self._single.pop(request_id, None)
        self._mass.pop(request_id, None)

    def fail_all(self, error: Exception) -> None:
        for single in self._single.values():
            if not single.done():
                single.set_exception(error)
        for mass in self._mass.values():
            if not mass.future.done():
                mass.future.set_exception(error)

    def answer(self, report: VenueReport, fields: dict[int, str]) -> bool:
        """Resolve the request this status report answers: True if it answered one.
        (A venue that does not echo the request id answers the oldest single request.)"""
        single = self._single.get(report.request_id)
        if single is None and not report.request_id:
            single = next((f for f in self._single.values() if not f.done()), None)
        if single is not None:
            if not single.done():
                single.set_result(report)
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


def business_reject(
    venue: str, fields: dict[int, str], request: VenueRequest | None
) -> VenueReport | None:
    """A BusinessMessageReject (35=j) of one of our requests, as that request's reject."""
    ref_type = fields.get(codec.REF_MSG_TYPE, "")
    cl_ord_id = fields.get(codec.BUSINESS_REJECT_REF_ID, "")
    text = fields.get(codec.TEXT, "") or f"business reject {fields.get(380, '')}"
    if ref_type == codec.NEW_ORDER_SINGLE:
        kind, exec_id, status = ReportKind.REJECTED, f"bizrej:{cl_ord_id}", VenueOrdStatus.REJECTED
    elif ref_type in (codec.ORDER_CANCEL_REQUEST, codec.ORDER_CANCEL_REPLACE_REQUEST):
        kind, exec_id, status = (
            ReportKind.CANCEL_REJECTED,
            f"cxlrej:{cl_ord_id}",
            VenueOrdStatus.UNKNOWN,
        )
    else:
        return None
    return VenueReport(
        venue=venue,
        kind=kind,
        cl_ord_id=cl_ord_id,
        exec_id=exec_id,
        ord_status=status,
        symbol=request.symbol if request is not None else "",
        orig_cl_ord_id=getattr(request, "orig_cl_ord_id", ""),
        text=text,
        reject_code=fields.get(codec.BUSINESS_REJECT_REASON, ""),
        poss_dup=fields.get(codec.POSS_DUP_FLAG) == "Y",
        seq_num=int(fields.get(codec.MSG_SEQ_NUM, "0") or 0),
    )


def not_resent(venue: str, raw: str, now: int, max_age: float) -> VenueReport | None:
    """Our resend policy when the venue asks for a message again: None to resend it; for a
    new order or a replace older than `max_age` seconds, the UNDELIVERED report that takes
    its place (the venue never saw it: it asked for it). Cancels always go again."""
    fields = codec.parse(raw)
    if fields.get(codec.MSG_TYPE) not in (
        codec.NEW_ORDER_SINGLE,
        codec.ORDER_CANCEL_REPLACE_REQUEST,
    ):
        return None
    sent = codec.parse_utc_timestamp(fields.get(122, "") or fields.get(52, ""))
    if sent and (now - sent) / NS <= max_age:
        return None
    cl_ord_id = fields.get(codec.CL_ORD_ID, "")
    return VenueReport(
        venue=venue,
        kind=ReportKind.UNDELIVERED,
        cl_ord_id=cl_ord_id,
        exec_id=f"undelivered:{cl_ord_id}",
        ord_status=VenueOrdStatus.UNKNOWN,
        symbol=fields.get(codec.SYMBOL, ""),
        orig_cl_ord_id=fields.get(codec.ORIG_CL_ORD_ID, ""),
        text=f"not resent: older than {max_age:.0f} s when the venue asked",
        transact_time=now,
    )
