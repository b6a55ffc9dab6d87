"""What an external venue reports, applied to the instrument's external orders (see
`matcher.engine.external`, whose `ExternalOrders` extends this): each state change with its
event, a fill only for the cumulative quantity beyond ours."""

from __future__ import annotations

from heapq import heappush

from matcher.engine.external_order import CANCEL, REPLACE, ExternalOrder
from shared.domain import reasons
from shared.domain.codes import CANCELED, EXPIRED, FILLED, NEW, REJECTED, TAKER
from shared.domain.commands import VenueReport
from shared.domain.events import (
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    ReplaceRejected,
    VenueAlert,
)
from shared.domain.order_rules import working_status


class VenueAnswers:
    """The instrument's external orders and what their venue's reports do to them; `seq`
    is the instrument's, kept by the caller."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.seq = 0
        self.orders: dict[str, ExternalOrder] = {}
        self.finished: list[tuple[int, str]] = []  # a heap of (ended_at, order_id)

    # ----------------------------------------------------------------- reports

    def report(self, r: VenueReport, out: list[Event]) -> None:
        """Apply what the venue said (see the module); changes nothing it cannot apply."""
        o = self.orders.get(r.order_id)
        if o is None or o.venue != r.venue:
            self._alert(r, reasons.UNKNOWN_VENUE_ORDER, r.text, out)
            return
        kind = r.report_kind
        if not r.on_grid:
            self._alert(r, reasons.VENUE_REPORT_OFF_GRID, _texts(r), out)
            return
        if kind == "cancel_rejected" or kind == "undelivered":
            self._answer_refused(o, r, out)
            return
        if kind == "rejected":
            if r.cl_ord_id == o.order_id and o.status == "":
                self._end_new(o, r.ts, reasons.VENUE_REJECTED, r.text, out)
            elif r.cl_ord_id == o.pending:
                self._answer_refused(o, r, out)
            return
        if kind == "trade_correct" or kind == "trade_cancel":
            self._alert(r, reasons.VENUE_TRADE_CORRECTED, _texts(r), out)
            return
        if kind == "status":
            self._status(o, r, out)
            return
        if not o.open:
            return  # a late repeat about an order that ended
        if kind == "trade":
            if r.is_fill and r.cum_qty > o.cum_qty:
                self._fill(o, r, out)
        elif kind == "replaced":
            if r.cl_ord_id == o.pending and o.pending_kind == REPLACE:
                self._replaced(o, r, out)
        elif kind == "canceled":
            self._close(o, r, self._cancel_reason(o), False, out)
        elif kind == "expired" or kind == "done_for_day":
            self._close(o, r, reasons.VENUE_EXPIRED, True, out)
        elif kind in ("new", "pending_new", "restated", "pending_cancel", "pending_replace"):
            self._accepted(o, r, out)

    def _status(self, o: ExternalOrder, r: VenueReport, out: list[Event]) -> None:
        """A status answer: never a fill. It accepts an order the venue holds, ends one the
        venue ended (when we know all its fills), and tells admins of fills we lack."""
        if not o.open:
            return
        if r.cum_qty > o.cum_qty:
            self._alert(r, reasons.VENUE_FILLS_MISSING, _texts(r), out)
            return
        status = r.ord_status
        if status in ("canceled", "expired", "done_for_day"):
            reason = reasons.VENUE_EXPIRED if status != "canceled" else self._cancel_reason(o)
            self._close(o, r, reason, status != "canceled", out)
        elif status == "rejected" and o.status == "":
            self._end_new(o, r.ts, reasons.VENUE_REJECTED, r.text, out)
        elif status in ("new", "partially_filled", "pending_cancel", "pending_replace"):
            self._accepted(o, r, out)

    def _cancel_reason(self, o: ExternalOrder) -> str:
        if o.pending_kind == CANCEL and o.pending_reason:
            return o.pending_reason
        return reasons.VENUE_CANCELED

    def _accepted(self, o: ExternalOrder, r: VenueReport, out: list[Event]) -> None:
        """OrderAccepted, once: the venue's first word that it holds the order."""
        if o.status != "":
            return
        o.venue_order_id = r.venue_order_id
        o.status = NEW
        self.seq += 1
        o.order_seq += 1
        out.append(
            OrderAccepted(
                self.symbol,
                self.seq,
                r.ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                NEW,
                o.side,
                o.order_type,
                o.quantity,
                o.price,
                o.stop_price,
            )
        )

    def _fill(self, o: ExternalOrder, r: VenueReport, out: list[Event]) -> None:
        self._accepted(o, r, out)
        qty = min(r.cum_qty - o.cum_qty, o.leaves_qty)
        if qty <= 0:
            return
        o.cum_qty += qty
        o.leaves_qty -= qty
        o.status = FILLED if o.leaves_qty == 0 else working_status(o.cum_qty, o.leaves_qty, 0)
        if o.leaves_qty == 0:
            o.pending, o.pending_kind = "", ""  # nothing left to cancel or replace
            self._ended(o, r.ts)
        self.seq += 1
        o.order_seq += 1
        out.append(
            OrderFilled(
                self.symbol,
                self.seq,
                r.ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                o.status,
                o.side,
                qty,
                r.last_px,
                o.leaves_qty,
                o.cum_qty,
                TAKER,
                0,
                self.seq,
            )
        )

    def _replaced(self, o: ExternalOrder, r: VenueReport, out: list[Event]) -> None:
        self._accepted(o, r, out)
        o.cl_ord_id = o.pending
        o.pending, o.pending_kind = "", ""
        o.quantity = o.pending_quantity
        o.price, o.stop_price = o.pending_price, o.pending_stop
        o.leaves_qty = max(o.quantity - o.cum_qty, 0)
        o.status = working_status(o.cum_qty, o.leaves_qty, 0)
        self.seq += 1
        o.order_seq += 1
        out.append(
            OrderReplaced(
                self.symbol,
                self.seq,
                r.ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                o.status,
                o.quantity,
                o.price,
                o.stop_price,
                o.leaves_qty,
                o.cum_qty,
                False,
                o.pending_client_id,
            )
        )

    def _close(
        self, o: ExternalOrder, r: VenueReport, reason: str, expired: bool, out: list[Event]
    ) -> None:
        self._accepted(o, r, out)
        canceled = o.leaves_qty
        o.leaves_qty = 0
        o.status = EXPIRED if expired else CANCELED
        o.pending, o.pending_kind = "", ""
        self._ended(o, r.ts)
        self.seq += 1
        o.order_seq += 1
        cls = OrderExpired if expired else OrderCanceled
        out.append(
            cls(
                self.symbol,
                self.seq,
                r.ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                o.status,
                canceled,
                o.cum_qty,
                reason,
            )
        )

    def _end_new(self, o: ExternalOrder, ts: int, reason: str, text: str, out: list[Event]) -> None:
        o.status, o.leaves_qty = REJECTED, 0
        o.pending, o.pending_kind = "", ""
        self._ended(o, ts)
        self.seq += 1
        o.order_seq += 1
        out.append(
            OrderRejected(
                self.symbol,
                self.seq,
                ts,
                o.order_id,
                o.account_id,
                o.order_seq,
                REJECTED,
                reason,
                text,
            )
        )

    def _ended(self, o: ExternalOrder, ts: int) -> None:
        """The order ended (once: only an open order ends): nothing is owed to it any more,
        and it is kept for late reports until `ExternalOrders.prune` lets it go."""
        o.ended_at = ts
        o.cancel_owed = ""
        heappush(self.finished, (ts, o.order_id))

    def _answer_refused(self, o: ExternalOrder, r: VenueReport, out: list[Event]) -> None:
        """The venue refused (or never got) the pending request named by the report."""
        undelivered = r.report_kind == "undelivered"
        reason = reasons.VENUE_REQUEST_UNDELIVERED if undelivered else reasons.VENUE_REJECTED
        if r.cl_ord_id == o.order_id:  # the new order itself
            if o.status == "":
                self._end_new(o, r.ts, reason, r.text, out)
            return
        if r.cl_ord_id != o.pending:
            return  # an answer to a request answered before
        kind = o.pending_kind
        o.pending, o.pending_kind = "", ""
        self._refuse(o, kind, reason, r.text, r.ts, o.account_id, out)

    def _refuse(
        self,
        o: ExternalOrder,
        kind: str,
        reason: str,
        text: str,
        ts: int,
        account_id: str,
        out: list[Event],
    ) -> None:
        """A cancel or replace refused (here or by the venue): the order keeps its state.
        Of an order the venue has not taken yet, or another account's, with no order_seq."""
        order_seq = 0
        if o.status != "" and account_id == o.account_id:
            o.order_seq += 1
            order_seq = o.order_seq
        status = o.status or NEW
        self.seq += 1
        cls = CancelRejected if kind == CANCEL else ReplaceRejected
        out.append(
            cls(
                self.symbol,
                self.seq,
                ts,
                o.order_id,
                account_id,
                order_seq,
                status,
                reason,
                text,
            )
        )

    def _alert(self, r: VenueReport, what: str, text: str, out: list[Event]) -> None:
        self.seq += 1
        out.append(
            VenueAlert(
                self.symbol,
                self.seq,
                r.ts,
                r.venue,
                what,
                r.order_id,
                r.cl_ord_id,
                r.exec_id,
                r.report_kind,
                text,
            )
        )


def _texts(r: VenueReport) -> str:
    return (
        f"{r.text} (ord status {r.ord_status}, last {r.last_qty_text} @ {r.last_px_text}, "
        f"cum {r.cum_qty_text}, leaves {r.leaves_qty_text}, avg {r.avg_px_text})"
    ).strip()
