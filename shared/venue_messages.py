"""Venue reports back to the instrument's single writer: one command per report on the
ORDERS_QUEUE, in the instrument's session, so the matcher sequences, journals and projects
what the venue said like any other command (issue #18, phase 2).

The body has the shape of `Command.to_dict()` with kind `venue_report`; the engine-side
command class (`VenueReport` in shared/domain/commands.py) takes exactly `REPORT_FIELDS`,
in that order. Quantities arrive in lots and prices in ticks of the instrument, converted
here (the engine stays integral); the venue's own decimal strings travel along, and
`on_grid` is false when one of them is off the instrument's grid (then the integers that
could not be converted are 0 and the engine raises an admin alert instead of applying it).

Command ids make redeliveries and the venue's own repeats one command (the bus drops a
repeat in its duplicate-detection window, the journal one it has seen):
- a report with an execution id: `venue:<venue>:<day>:<exec_id>` (FIX ExecIDs are unique
  per trading day; `<day>` is the report's TransactTime date, the same in every resend;
  `-` when the venue sent none);
- a status answer (ExecID "0"): `venue:<venue>:status:<cl_ord_id>:<ord_status>:<cum_qty>:
  <request_id>` (the same answer twice is one command; a new answer is another);
- cancel rejects, business rejects and undelivered requests carry ids of their request
  (`cxlrej:<cl_ord_id>`, `bizrej:<cl_ord_id>`, `undelivered:<cl_ord_id>`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal

import orjson

from shared.domain.instrument import Instrument
from shared.ports.bus import Bus, BusMessage
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_orders import OrderRepository
from shared.ports.venue import ReportKind, ReportSink, VenueReport

audit = logging.getLogger("audit")

REPORT_KIND = "venue_report"
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class VenueReportCommand:
    """The wire form of one venue report for the instrument's session (see the module).

    `ts` is when the gateway took the report (ns): the engine stamps its events with it.
    `order_id` is our order id (the root of the ClOrdID chain: a new order's ClOrdID is the
    order id, a cancel's or replace's `<order_id>.<n>`). `poss_dup`: the venue flagged it
    as possibly sent before (PossDupFlag or PossResend). `is_fill`: a new execution (FIX
    ExecType F with an execution id; never a status answer)."""

    command_id: str
    ts: int
    symbol: str
    venue: str
    report_kind: str
    order_id: str
    cl_ord_id: str
    orig_cl_ord_id: str
    exec_id: str
    venue_order_id: str
    ord_status: str
    is_fill: bool
    last_qty: int
    last_px: int
    cum_qty: int
    leaves_qty: int
    on_grid: bool
    last_qty_text: str
    last_px_text: str
    cum_qty_text: str
    leaves_qty_text: str
    avg_px_text: str
    text: str
    reject_code: str
    exec_ref_id: str
    request_id: str
    venue_ts: int
    poss_dup: bool

    def to_dict(self) -> dict[str, object]:
        return {"kind": REPORT_KIND, **asdict(self)}


REPORT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(VenueReportCommand))


def order_id_of(cl_ord_id: str) -> str:
    """Our order id from a ClOrdID of its chain (`<order_id>` or `<order_id>.<n>`)."""
    return cl_ord_id.split(".", 1)[0]


def command_id_of(report: VenueReport) -> str:
    """The report's command id (see the module): the same for every copy of one report."""
    if report.kind is ReportKind.STATUS or report.exec_id in ("", "0"):
        return (
            f"venue:{report.venue}:status:{report.cl_ord_id}:{report.ord_status.value}:"
            f"{_text(report.cum_qty)}:{report.request_id}"
        )
    day = "-"
    if report.transact_time > 0:
        day = datetime.fromtimestamp(report.transact_time // NS, UTC).strftime("%Y%m%d")
    return f"venue:{report.venue}:{day}:{report.exec_id}"


def _text(value: Decimal) -> str:
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _units(value: Decimal, step: Decimal) -> int | None:
    """How many `step`s make `value` exactly (None: off the grid or negative)."""
    if value == 0:
        return 0
    units, remainder = divmod(value, step)
    if remainder != 0 or value < 0:
        return None
    return int(units)


def report_command(report: VenueReport, instrument: Instrument, ts: int) -> VenueReportCommand:
    """The command that carries `report` to `instrument`'s session."""
    lot, tick = instrument.lot_size, instrument.tick_size
    quantities = [_units(q, lot) for q in (report.last_qty, report.cum_qty, report.leaves_qty)]
    last_px = _units(report.last_px, tick)
    last_qty, cum_qty, leaves_qty = (q or 0 for q in quantities)
    return VenueReportCommand(
        command_id=command_id_of(report),
        ts=ts,
        symbol=instrument.symbol,
        venue=report.venue,
        report_kind=report.kind.value,
        order_id=order_id_of(report.cl_ord_id),
        cl_ord_id=report.cl_ord_id,
        orig_cl_ord_id=report.orig_cl_ord_id,
        exec_id=report.exec_id,
        venue_order_id=report.venue_order_id,
        ord_status=report.ord_status.value,
        is_fill=report.is_fill,
        last_qty=last_qty,
        last_px=last_px or 0,
        cum_qty=cum_qty,
        leaves_qty=leaves_qty,
        on_grid=None not in quantities and last_px is not None,
        last_qty_text=_text(report.last_qty),
        last_px_text=_text(report.last_px),
        cum_qty_text=_text(report.cum_qty),
        leaves_qty_text=_text(report.leaves_qty),
        avg_px_text=_text(report.avg_px),
        text=report.text,
        reject_code=report.reject_code,
        exec_ref_id=report.exec_ref_id,
        request_id=report.request_id,
        venue_ts=report.transact_time,
        poss_dup=report.poss_dup or report.poss_resend,
    )


def report_message(command: VenueReportCommand) -> BusMessage:
    """The ORDERS_QUEUE message: message id = command id, session = the instrument."""
    return BusMessage(
        body=orjson.dumps(command.to_dict()),
        message_id=command.command_id,
        session_id=command.symbol,
        application_properties={"kind": REPORT_KIND},
    )


def decode_report(body: bytes) -> VenueReportCommand:
    """The command in a body made by `report_message`; ValueError if it is not one."""
    data = orjson.loads(body)
    if not isinstance(data, dict) or data.get("kind") != REPORT_KIND:
        raise ValueError("not a venue_report")
    try:
        return VenueReportCommand(**{name: data[name] for name in REPORT_FIELDS})
    except KeyError as missing:
        raise ValueError(f"a venue_report lacks {missing}") from None


class UnroutableReport(Exception):
    """A report whose instrument cannot be told (no symbol and no order of ours)."""


def bus_sink(
    venue: str,
    bus: Bus,
    orders_queue: str,
    instruments: InstrumentRepository,
    orders: OrderRepository,
    clock: Callable[[], int] = time.time_ns,
) -> ReportSink:
    """The gateway's sink: each report as a command on the instrument's session. A report
    counts as taken once the bus accepted it (the connector retries while it raises).
    The instrument is the report's symbol or, when the venue sent none (FIX
    OrderCancelReject carries no Symbol), the instrument of our order. A report about an
    order and instrument we do not know at all is an audit line for admins."""
    cache: dict[str, Instrument] = {}

    async def instrument_of(report: VenueReport) -> Instrument | None:
        symbol = report.symbol
        if not symbol:
            order = await orders.get_any(order_id_of(report.cl_ord_id))
            symbol = order.symbol if order is not None else ""
        if not symbol:
            return None
        known = cache.get(symbol)
        if known is None:
            known = await instruments.get(symbol)
            if known is not None:
                cache[symbol] = known  # tick and lot sizes never change
        return known

    async def sink(report: VenueReport) -> None:
        instrument = await instrument_of(report)
        if instrument is None:
            audit.error(
                "venue %s: %s about %s (%s) names no instrument of ours: not applied",
                venue,
                report.kind.value,
                report.cl_ord_id,
                report.symbol or "no symbol",
            )
            return
        command = report_command(report, instrument, clock())
        await bus.send(orders_queue, [report_message(command)])

    return sink
