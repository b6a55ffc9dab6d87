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
- Halt and cancel-all send cancels to the venue for every open order they reach; the order
  ends when the venue confirms. An order with a request pending (a replace, a client's
  cancel) is marked instead (`cancel_owed`, with the halt's reason): as soon as the venue
  answers that request and leaves the order open (replaced, the request refused or
  undelivered), the cancel goes. An order the venue has not acknowledged yet is canceled at
  once by its ClOrdID (FIX names the order by OrigClOrdID alone; the session delivers the
  cancel after the NewOrderSingle, so the venue knows the order when it reads the cancel)
  and stays marked until acknowledged: should the venue refuse that cancel before it knows
  the order (a REST venue, a NewOrderSingle lost on the way and sent again by the
  gateway), the cancel goes again when the order's acknowledgement arrives. Either way at
  most one more cancel: a venue that refuses the cancel of an order it acknowledged has
  said its last word (CancelRejected).
- A report about an order we do not hold is an admin alert (UNKNOWN_VENUE_ORDER).
- A finished order is kept while its late reports may still come (see FINISHED_KEPT_NS and
  FINISHED_KEPT_MAX), so a repeat is recognised and changes nothing; then it is forgotten
  (a report about it after that is an UNKNOWN_VENUE_ORDER alert, never a state change).
  Orders are forgotten only when a new external order arrives (at its `ts`): a NewOrder
  always produces events, so the journal holds it and a replay runs it again; a command that
  produced nothing (a clock tick, a repeated report) is not replayed and must not change
  the state. So a replay forgets the same orders at the same command, never by wall clock.
- Supported at a venue: simple limit, market, stop and stop-limit orders; the rest
  (icebergs, post-only, reduce-only, trailing stops, groups) are rejected
  VENUE_UNSUPPORTED_ORDER.

Every state change comes with an event, so replaying the journal rebuilds the same state.
"""

from __future__ import annotations

from heapq import heapify, heappop
from typing import Final, final

from matcher.engine.external_order import (
    CANCEL,
    PLACE,
    PREFIX,
    REPLACE,
    ExternalOrder,
    is_external,
    order_fields,
)
from matcher.engine.venue_answers import VenueAnswers
from shared.domain import reasons
from shared.domain.codes import LIMIT, MARKET, REJECTED, SIMPLE, STOP, STOP_LIMIT
from shared.domain.commands import NewOrder, NewOrderGroup, ReplaceOrder, VenueReport
from shared.domain.events import Event, OrderRejected, VenueRequestIssued
from shared.domain.order_rules import new_order_problem

__all__ = ["FINISHED_KEPT_MAX", "FINISHED_KEPT_NS", "PREFIX", "ExternalOrders", "is_external"]

# How long a finished order is kept (engine time, from its end): the late reports about
# an order that ended are repeats, PossDup or PossResend copies and REST retries (seconds
# later), and the venue's session-level resend after a gateway restarted having lost its
# last sequence numbers (the gateway's downtime: minutes). An hour covers them with a wide
# margin; what comes later is an admin alert, not a lost or doubled fill.
FINISHED_KEPT_NS: Final = 3_600 * 1_000_000_000
# At most this many finished orders per instrument, the oldest forgotten first: a burst of
# orders cannot grow the snapshot (about 0.6 kB an order) past a few megabytes.
FINISHED_KEPT_MAX: Final = 10_000


@final
class ExternalOrders(VenueAnswers):
    """The instrument's external orders: the requests for their venue (here) and what the
    venue reports (`VenueAnswers`)."""

    # ----------------------------------------------------------------- requests

    def new_order(self, c: NewOrder, halted: bool, duplicate: bool, out: list[Event]) -> None:
        self.prune(c.ts)
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
        """Cancels at the venue for every open order (of the account, if named): now when
        no request is pending, else once the venue answered it (see the module)."""
        for order_id in sorted(self.orders):
            o = self.orders[order_id]
            if not o.open or (account_id and o.account_id != account_id):
                continue
            if o.pending or o.status == "":
                o.cancel_owed = o.cancel_owed or reason
            if not o.pending:
                self.cancel(order_id, o.account_id, ts, reason, out)

    def report(self, r: VenueReport, out: list[Event]) -> None:
        """Apply what the venue said (`VenueAnswers.report`); then the cancel a halt or a
        cancel-all owes the order goes, if the venue now holds it open with no request of
        ours pending."""
        super().report(r, out)
        o = self.orders.get(r.order_id)
        if o is not None and o.cancel_owed and not o.pending and o.status != "" and o.open:
            reason = o.cancel_owed
            o.cancel_owed = ""  # the last try: a refusal now is the venue's word
            self.cancel(o.order_id, o.account_id, r.ts, reason, out)

    def prune(self, ts: int) -> None:
        """Forget the finished orders older than FINISHED_KEPT_NS at `ts`, and the oldest
        beyond FINISHED_KEPT_MAX. Only a new order calls it (see the module: replay)."""
        finished = self.finished
        horizon = ts - FINISHED_KEPT_NS
        while finished and (finished[0][0] <= horizon or len(finished) > FINISHED_KEPT_MAX):
            _, order_id = heappop(finished)
            del self.orders[order_id]

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
        o.issued_at = ts
        self.seq += 1
        out.append(
            self._request(o, kind, cl_ord_id, orig, quantity, price, stop_price, ts, self.seq)
        )

    def outstanding(self) -> list[VenueRequestIssued]:
        """The requests the venue has not answered yet, as issued (seq 0: not journaled
        again), for a recovery to send once more: a new order the venue never acknowledged,
        then a pending cancel or replace. The gateway asks the venue before it resends."""
        found: list[VenueRequestIssued] = []
        for order_id in sorted(self.orders):
            o = self.orders[order_id]
            if not o.open:
                continue
            at = o.issued_at
            if o.status == "":
                found.append(self._request(o, PLACE, o.order_id, "", o.quantity, o.price,
                                           o.stop_price, at))  # fmt: skip
            if o.pending_kind == CANCEL:
                found.append(self._request(o, CANCEL, o.pending, o.cl_ord_id, o.quantity, o.price,
                                           o.stop_price, at))  # fmt: skip
            elif o.pending_kind == REPLACE:
                found.append(self._request(o, REPLACE, o.pending, o.cl_ord_id, o.pending_quantity,
                                           o.pending_price, o.pending_stop, at))  # fmt: skip
        return found

    def _request(
        self,
        o: ExternalOrder,
        kind: str,
        cl_ord_id: str,
        orig: str,
        quantity: int,
        price: int,
        stop_price: int,
        ts: int,
        seq: int = 0,
    ) -> VenueRequestIssued:
        """The request as an event: `seq` 0 for one issued before and sent again."""
        return VenueRequestIssued(
            self.symbol,
            seq,
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

    def snapshot(self) -> list[dict[str, object]]:
        return [order_fields(self.orders[k]) for k in sorted(self.orders)]

    def restore(self, data: list[object]) -> None:
        for item in data:
            assert isinstance(item, dict)
            o = ExternalOrder.from_dict(item)
            self.orders[o.order_id] = o
            if not o.open:
                self.finished.append((o.ended_at, o.order_id))
        heapify(self.finished)
