"""Orders of one instrument that work at external venues (issue #18): deterministic, no I/O.

A NewOrder with `venue == "ext:<name>"` is kept here, not in a book: its new, cancel and
replace become `VenueRequestIssued` events (journaled, then sent to the venue's gateway by
the outbox), and the order's own events come from what the venue reports (`VenueReport`
commands on the instrument's session, sequenced like any other command):

- ClOrdIDs: a new order's is the order id; a cancel's or replace's `<order_id>.<n>` (n from
  1, one per request), naming the order by the last ClOrdID the venue accepted
  (OrigClOrdID). One request at a time per order: another while one is pending is refused
  REQUEST_PENDING_AT_VENUE (a cancel overtakes nothing: it waits for the answer too).
- A fill is applied only when the report's cumulative quantity exceeds ours, for the
  difference: a repeat (PossDup, a REST retry, a resend after a reconnect) changes nothing.
  Status answers (ExecType I) never fill; one showing more filled than we know raises an
  admin alert (VENUE_FILLS_MISSING), as do busts and corrections.
- The first report of an order the venue took (new, a fill, a cancel...) accepts it
  (OrderAccepted) first. A venue reject ends a new order `rejected` VENUE_REJECTED with the
  venue's text; a cancel reject or a replace reject keeps the order's state, with the
  reason and the text; a request the gateway could not deliver is answered
  VENUE_REQUEST_UNDELIVERED likewise.
- Halt and cancel-all send cancels to the venue; the order ends when the venue confirms.
- A report about an order we do not hold is an admin alert (UNKNOWN_VENUE_ORDER).
- Supported at a venue: simple limit, market, stop and stop-limit orders; the rest
  (icebergs, post-only, reduce-only, trailing stops, groups) are rejected
  VENUE_UNSUPPORTED_ORDER.

Every state change comes with an event, so replaying the journal rebuilds the same state.
"""

from __future__ import annotations

from typing import final

from shared.domain import reasons
from shared.domain.codes import (
    CANCELED,
    EXPIRED,
    FILLED,
    LIMIT,
    MARKET,
    NEW,
    REJECTED,
    SIMPLE,
    STOP,
    STOP_LIMIT,
    TAKER,
)
from shared.domain.commands import NewOrder, NewOrderGroup, ReplaceOrder, VenueReport
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
    VenueRequestIssued,
)
from shared.domain.order_rules import new_order_problem, working_status

PREFIX = "ext:"
PLACE = "place"
CANCEL = "cancel"
REPLACE = "replace"


def is_external(venue: str) -> bool:
    return venue.startswith(PREFIX)


@final
class ExternalOrder:
    """One order at an external venue, as far as the venue confirmed it."""

    def __init__(self, c: NewOrder) -> None:
        self.order_id = c.order_id
        self.account_id = c.account_id
        self.venue = c.venue[len(PREFIX) :]
        self.side = c.side
        self.order_type = c.order_type
        self.time_in_force = c.time_in_force
        self.quantity = c.quantity
        self.price = c.price
        self.stop_price = c.stop_price
        self.expire_at = c.expire_at
        self.cum_qty = 0
        self.leaves_qty = c.quantity
        self.order_seq = 0
        self.status = ""  # "" until the venue's first word, then the order's status
        self.cl_ord_id = c.order_id  # the last ClOrdID the venue accepted
        self.requests = 0  # cancels and replaces issued
        self.pending = ""  # the ClOrdID of the request awaiting an answer ("" none)
        self.pending_kind = ""
        self.pending_reason = ""  # a pending cancel's reason (client, halt, account)
        self.pending_quantity = 0  # a pending replace's new total, prices and client id
        self.pending_price = 0
        self.pending_stop = 0
        self.pending_client_id = ""
        self.venue_order_id = ""

    @property
    def open(self) -> bool:
        return self.status not in (FILLED, CANCELED, EXPIRED, REJECTED)

    @staticmethod
    def from_dict(data: dict[str, object]) -> ExternalOrder:
        o = ExternalOrder(
            NewOrder(
                "",
                0,
                "",
                str(data["order_id"]),
                str(data["account_id"]),
                str(data["side"]),
                str(data["order_type"]),
                str(data["time_in_force"]),
                int(str(data["quantity"])),
                venue=PREFIX + str(data["venue"]),
            )
        )
        for name in _INTS:
            setattr(o, name, int(str(data[name])))
        for name in _STRS:
            setattr(o, name, str(data[name]))
        return o


_INTS = (
    "quantity",
    "price",
    "stop_price",
    "expire_at",
    "cum_qty",
    "leaves_qty",
    "order_seq",
    "requests",
    "pending_quantity",
    "pending_price",
    "pending_stop",
)
_STRS = (
    "order_id",
    "account_id",
    "venue",
    "side",
    "order_type",
    "time_in_force",
    "status",
    "cl_ord_id",
    "pending",
    "pending_kind",
    "pending_reason",
    "pending_client_id",
    "venue_order_id",
)


def _fields(o: ExternalOrder) -> dict[str, object]:
    data: dict[str, object] = {name: getattr(o, name) for name in _STRS}
    data.update({name: getattr(o, name) for name in _INTS})
    return data


@final
class ExternalOrders:
    """The instrument's external orders; `seq` is the instrument's, kept by the caller."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.seq = 0
        self.orders: dict[str, ExternalOrder] = {}

    # ----------------------------------------------------------------- requests

    def new_order(self, c: NewOrder, halted: bool, duplicate: bool, out: list[Event]) -> None:
        reason = new_order_problem(c, halted, duplicate or c.order_id in self.orders)
        if not reason and (
            c.order_type not in (LIMIT, MARKET, STOP, STOP_LIMIT)
            or c.display_qty > 0
            or c.post_only
            or c.reduce_only
            or c.order_class != SIMPLE
        ):
            reason = reasons.VENUE_UNSUPPORTED_ORDER
        if reason:
            self.seq += 1
            out.append(
                OrderRejected(
                    self.symbol, self.seq, c.ts, c.order_id, c.account_id, 1, REJECTED, reason
                )
            )
            return
        o = ExternalOrder(c)
        self.orders[o.order_id] = o
        self._issue(o, PLACE, o.order_id, "", o.quantity, o.price, o.stop_price, c.ts, out)

    def reject_group(self, g: NewOrderGroup, out: list[Event]) -> None:
        for c in g.orders:
            self.seq += 1
            out.append(
                OrderRejected(
                    self.symbol,
                    self.seq,
                    g.ts,
                    c.order_id,
                    c.account_id,
                    1,
                    REJECTED,
                    reasons.VENUE_UNSUPPORTED_ORDER,
                )
            )

    def cancel(
        self, order_id: str, account_id: str, ts: int, reason: str, out: list[Event]
    ) -> None:
        o = self.orders[order_id]
        refusal = self._refusal(o, account_id)
        if refusal:
            self._refuse(o, CANCEL, refusal, "", ts, account_id, out)
            return
        o.pending_reason = reason
        o.requests += 1
        cl = f"{o.order_id}.{o.requests}"
        self._issue(o, CANCEL, cl, o.cl_ord_id, o.quantity, o.price, o.stop_price, ts, out)

    def replace(self, c: ReplaceOrder, out: list[Event]) -> None:
        o = self.orders[c.order_id]
        refusal = self._refusal(o, c.account_id)
        quantity = c.quantity if c.quantity > 0 else o.quantity
        if not refusal and (quantity <= o.cum_qty or c.trail_amount or c.trail_cbps):
            refusal = reasons.REPLACE_QTY_AT_OR_BELOW_FILLED
            if c.trail_amount or c.trail_cbps:
                refusal = reasons.REPLACE_INVALID
        if refusal:
            self._refuse(o, REPLACE, refusal, "", c.ts, c.account_id, out)
            return
        o.pending_quantity = quantity
        o.pending_price = c.price if c.price > 0 else o.price
        o.pending_stop = c.stop_price if c.stop_price > 0 else o.stop_price
        o.pending_client_id = c.client_order_id
        o.requests += 1
        cl = f"{o.order_id}.{o.requests}"
        price, stop = o.pending_price, o.pending_stop
        self._issue(o, REPLACE, cl, o.cl_ord_id, quantity, price, stop, c.ts, out)

    def cancel_all(self, account_id: str, ts: int, reason: str, out: list[Event]) -> None:
        """Cancels at the venue for every open order (of the account, if named) that has no
        request pending (a pending cancel goes anyway; a pending replace is answered first
        and its order canceled by the next halt or cancel-all)."""
        for order_id in sorted(self.orders):
            o = self.orders[order_id]
            if o.open and not o.pending and (not account_id or o.account_id == account_id):
                self.cancel(order_id, o.account_id, ts, reason, out)

    def _refusal(self, o: ExternalOrder, account_id: str) -> str:
        if o.account_id != account_id:
            return reasons.NOT_ORDER_OWNER
        if not o.open:
            return reasons.ORDER_NOT_OPEN
        if o.pending:
            return reasons.REQUEST_PENDING_AT_VENUE
        return ""

    def _issue(
        self,
        o: ExternalOrder,
        kind: str,
        cl_ord_id: str,
        orig: str,
        quantity: int,
        price: int,
        stop_price: int,
        ts: int,
        out: list[Event],
    ) -> None:
        if kind != PLACE:  # (a new order is pending while its status is "")
            o.pending, o.pending_kind = cl_ord_id, kind
        self.seq += 1
        out.append(
            VenueRequestIssued(
                self.symbol,
                self.seq,
                ts,
                o.venue,
                kind,
                o.order_id,
                o.account_id,
                cl_ord_id,
                orig,
                o.side,
                o.order_type,
                o.time_in_force,
                quantity,
                price,
                stop_price,
                o.expire_at,
                o.venue_order_id,
            )
        )

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

    # ----------------------------------------------------------------- snapshot

    def snapshot(self) -> list[dict[str, object]]:
        return [_fields(self.orders[k]) for k in sorted(self.orders)]

    def restore(self, data: list[object]) -> None:
        for item in data:
            assert isinstance(item, dict)
            o = ExternalOrder.from_dict(item)
            self.orders[o.order_id] = o


def _texts(r: VenueReport) -> str:
    return (
        f"{r.text} (ord status {r.ord_status}, last {r.last_qty_text} @ {r.last_px_text}, "
        f"cum {r.cum_qty_text}, leaves {r.leaves_qty_text}, avg {r.avg_px_text})"
    ).strip()
