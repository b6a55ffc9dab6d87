"""The simulated exchange: orders, a deterministic fill model, and the FIX acceptor's callbacks.

Nothing fills by itself unless `auto_fill` is on (then every new order is acknowledged and
filled in full at its limit price, or `market_price`): tests and the control channel say
what happens, so every run is the same. Venue order ids and execution ids are counters.
Execution reports sent while the initiator is away are kept by QuickFIX's store and resent
with PossDupFlag=Y when the initiator's logon shows the gap.
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal
from typing import Any

import quickfix as fix

from gateway.fix import codec
from tools.fix_exchange.orders import OPEN, Fields, Rule, SimOrder

log = logging.getLogger(__name__)


class Exchange(fix.Application):  # type: ignore[misc]
    """The acceptor's application and the order state; thread-safe (QuickFIX's thread and
    the control server's threads share it)."""

    def __init__(self, market_price: Decimal = Decimal(100)) -> None:
        super().__init__()
        self.lock = threading.RLock()
        self.session_id: Any = None
        self.logged_on = False
        self.refuse_logon = False
        self.auto_fill = False
        self.pending_first = False
        self.market_price = market_price
        self.orders: dict[str, SimOrder] = {}  # by venue order id
        self.by_cl_ord_id: dict[str, SimOrder] = {}
        self.rules: list[Rule] = []
        self.received: list[str] = []  # MsgType of every application message received
        self.flag_next: dict[str, str] = {}  # exec id -> "poss_dup" for the next send
        self.logon_seqs: list[int] = []  # MsgSeqNum of every Logon the initiator sent
        self.held: list[tuple[str, dict[int, str]]] = []  # (MsgType, fields) not read yet
        self._ids = 0
        self._execs = 0

    # ------------------------------------------------------------ ids and sending

    def _next_order_id(self) -> str:
        self._ids += 1
        return f"V{self._ids}"

    def _next_exec_id(self) -> str:
        self._execs += 1
        return f"X{self._execs}"

    def _send(self, msg_type: str, fields: Fields, header: Fields | None = None) -> bool:
        message = fix.Message()
        head = message.getHeader()
        head.setField(fix.MsgType(msg_type))
        for tag, value in header or []:
            head.setField(tag, value)
        for tag, value in fields:
            message.setField(tag, value)
        if self.session_id is None:
            return False
        return bool(fix.Session.sendToTarget(message, self.session_id))

    def report(
        self,
        order: SimOrder,
        exec_type: str,
        *,
        cl_ord_id: str | None = None,
        orig: str | None = None,
        last: tuple[Decimal, Decimal] | None = None,
        text: str = "",
        extra: Fields | None = None,
        exec_id: str | None = None,
    ) -> None:
        """Send an ExecutionReport for the order in its current state."""
        fields: Fields = [(codec.ORDER_ID, order.venue_order_id)]
        # A mass status answer of no orders has no ClOrdID: an empty tag value would be a
        # session-level reject at the initiator, and the answer would never arrive.
        if cl_ord_id or order.cl_ord_id:
            fields.append((codec.CL_ORD_ID, cl_ord_id or order.cl_ord_id))
        if orig:
            fields.append((codec.ORIG_CL_ORD_ID, orig))
        fields += [
            (codec.EXEC_ID, exec_id or self._next_exec_id()),
            (codec.EXEC_TYPE, exec_type),
            (codec.ORD_STATUS, order.status),
            (codec.SYMBOL, order.symbol),
            (codec.SIDE, order.side),
            (codec.ORDER_QTY, codec.decimal_text(order.quantity)),
            (codec.PRICE, codec.decimal_text(order.price)),
            (codec.LEAVES_QTY, codec.decimal_text(order.leaves)),
            (codec.CUM_QTY, codec.decimal_text(order.cum_qty)),
            (codec.AVG_PX, codec.decimal_text(order.avg_px)),
        ]
        if last is not None:
            fields += [
                (codec.LAST_QTY, codec.decimal_text(last[0])),
                (codec.LAST_PX, codec.decimal_text(last[1])),
            ]
        if text:
            fields.append((codec.TEXT, text))
        fields += extra or []
        if exec_type != "I":
            order.sent.append(fields)
        self._send(codec.EXECUTION_REPORT, fields)

    # ------------------------------------------------------------ control actions

    def fill(self, cl_ord_id: str, quantity: Decimal, price: Decimal | None) -> SimOrder:
        with self.lock:
            order = self.by_cl_ord_id[cl_ord_id]
            if order.status not in OPEN:
                raise ValueError(f"{cl_ord_id} is not open ({order.status})")
            quantity = min(quantity, order.leaves)
            px = price if price is not None else order.price or self.market_price
            order.cum_qty += quantity
            order.notional += quantity * px
            order.status = "2" if order.cum_qty >= order.quantity else "1"
            self.report(order, "F", last=(quantity, px))
            return order

    def send_report(self, cl_ord_id: str, exec_type: str, text: str, ref: str) -> SimOrder:
        """Any other ExecType for an order; closing ones close it."""
        with self.lock:
            order = self.by_cl_ord_id[cl_ord_id]
            order.status = {"3": "3", "7": "7", "9": "9", "C": "C", "B": order.status}.get(
                exec_type, order.status
            )
            extra: Fields = [(codec.EXEC_REF_ID, ref)] if ref else []
            self.report(order, exec_type, text=text, extra=extra)
            return order

    def foreign(self, symbol: str, side: str, quantity: Decimal, price: Decimal) -> SimOrder:
        """An order of this session that the initiator never sent (entered by hand)."""
        with self.lock:
            venue_id = self._next_order_id()
            order = SimOrder(venue_id, f"FOREIGN-{venue_id}", symbol, side, quantity, price, "2")
            self._add(order)
            self.report(order, "0")
            return order

    def duplicate(self, cl_ord_id: str, flag: str) -> int:
        """Send every report of the order again, same exec ids, flagged as possible
        duplicates (PossDupFlag=Y or PossResend=Y) under new sequence numbers."""
        with self.lock:
            order = self.by_cl_ord_id[cl_ord_id]
            for fields in list(order.sent):
                exec_id = dict(fields)[codec.EXEC_ID]
                if flag == "poss_dup":
                    self.flag_next[exec_id] = "poss_dup"
                    self._send(codec.EXECUTION_REPORT, fields)
                else:
                    self._send(codec.EXECUTION_REPORT, fields, [(codec.POSS_RESEND, "Y")])
            return len(order.sent)

    def drop(self, refuse_logon: bool) -> None:
        with self.lock:
            self.refuse_logon = refuse_logon
        session = fix.Session.lookupSession(self.session_id) if self.session_id else None
        if session is not None:
            session.disconnect()

    def rewind(self, seq: int) -> None:
        """Forget what the initiator sent from `seq` on: its next message shows a gap, and
        the session layer asks for everything from `seq` again (a ResendRequest)."""
        session = fix.Session.lookupSession(self.session_id) if self.session_id else None
        if session is not None:
            session.setNextTargetMsgSeqNum(seq)

    def release(self) -> int:
        """Read the held requests now, in the order they came (a slow venue catching up)."""
        with self.lock:
            held, self.held = self.held, []
            for msg_type, fields in held:
                self._handle(msg_type, fields)
            return len(held)

    def held_ids(self) -> list[str]:
        with self.lock:
            return [fields.get(codec.CL_ORD_ID, "") for _, fields in self.held]

    def view(self) -> list[dict[str, object]]:
        with self.lock:
            return [o.view() for o in self.orders.values()]

    def numbers(self) -> dict[str, int]:
        """The session's next sequence numbers: to send, and expected from the initiator."""
        session = fix.Session.lookupSession(self.session_id) if self.session_id else None
        if session is None:
            return {"next_sender_seq": 0, "next_target_seq": 0}
        return {
            "next_sender_seq": int(session.getExpectedSenderNum()),
            "next_target_seq": int(session.getExpectedTargetNum()),
        }

    # ------------------------------------------------------------ requests

    def _add(self, order: SimOrder) -> None:
        self.orders[order.venue_order_id] = order
        order.known_ids.add(order.cl_ord_id)
        self.by_cl_ord_id[order.cl_ord_id] = order

    def _rule(self, action: str) -> Rule | None:
        for rule in self.rules:
            if rule.action == action and rule.times > 0:
                rule.times -= 1
                return rule
        return None

    def _reject_new(self, fields: dict[int, str], text: str, code: str) -> None:
        cl_ord_id = fields.get(codec.CL_ORD_ID, "")
        order = SimOrder(
            "NONE",
            cl_ord_id,
            fields.get(codec.SYMBOL, ""),
            fields.get(codec.SIDE, "1"),
            Decimal(fields.get(codec.ORDER_QTY, "0")),
            Decimal(fields.get(codec.PRICE, "0")),
            fields.get(codec.ORD_TYPE, "2"),
            status="8",
        )
        self.report(order, "8", text=text, extra=[(codec.ORD_REJ_REASON, code)])

    def new_order(self, fields: dict[int, str]) -> None:
        cl_ord_id = fields.get(codec.CL_ORD_ID, "")
        if self._rule("drop_new") is not None:
            return  # lost on the way: never processed, never answered
        throttle = self._rule("throttle_new")
        if throttle is not None:
            self._send(
                codec.BUSINESS_MESSAGE_REJECT,
                [
                    (codec.REF_SEQ_NUM, fields.get(codec.MSG_SEQ_NUM, "0")),
                    (codec.REF_MSG_TYPE, codec.NEW_ORDER_SINGLE),
                    (codec.BUSINESS_REJECT_REF_ID, cl_ord_id),
                    (codec.BUSINESS_REJECT_REASON, "0"),  # other
                    (codec.TEXT, throttle.text or "throttled: too many requests"),
                ],
            )
            return
        if cl_ord_id in self.by_cl_ord_id:
            if fields.get(codec.POSS_RESEND) == "Y":
                return  # a resend of an order we have: nothing new to say
            self._reject_new(fields, "duplicate ClOrdID", "6")
            return
        reject = self._rule("reject_new")
        if reject is not None:
            self._reject_new(fields, reject.text or "rejected by the exchange", "99")
            return
        price = Decimal(fields.get(codec.PRICE, "0") or "0")
        order = SimOrder(
            self._next_order_id(),
            cl_ord_id,
            fields.get(codec.SYMBOL, ""),
            fields.get(codec.SIDE, "1"),
            Decimal(fields.get(codec.ORDER_QTY, "0")),
            price,
            fields.get(codec.ORD_TYPE, "2"),
        )
        self._add(order)
        if self.pending_first:
            order.status = "A"
            self.report(order, "A")
            order.status = "0"
        self.report(order, "0")
        if self.auto_fill:
            self.fill(cl_ord_id, order.quantity, None)

    def _cancel_reject(
        self, fields: dict[int, str], order: SimOrder | None, to: str, code: str, text: str
    ) -> None:
        self._send(
            codec.ORDER_CANCEL_REJECT,
            [
                (codec.ORDER_ID, order.venue_order_id if order else "NONE"),
                (codec.CL_ORD_ID, fields.get(codec.CL_ORD_ID, "")),
                (codec.ORIG_CL_ORD_ID, fields.get(codec.ORIG_CL_ORD_ID, "")),
                (codec.ORD_STATUS, order.status if order else "8"),
                (codec.CXL_REJ_RESPONSE_TO, to),
                (codec.CXL_REJ_REASON, code),
                (codec.TEXT, text),
            ],
        )

    def _amend_target(self, fields: dict[int, str], to: str, rule: str) -> SimOrder | None:
        orig = fields.get(codec.ORIG_CL_ORD_ID, "")
        order = self.by_cl_ord_id.get(orig)
        if order is None:
            self._cancel_reject(fields, None, to, "1", "unknown order")
            return None
        if fields.get(codec.CL_ORD_ID, "") in order.known_ids:
            return None  # a resend of a request we answered
        if order.status not in OPEN:
            self._cancel_reject(fields, order, to, "0", "too late: the order is closed")
            return None
        armed = self._rule(rule)
        if armed is not None:
            self._cancel_reject(fields, order, to, "99", armed.text or "refused by the exchange")
            return None
        return order

    def cancel(self, fields: dict[int, str]) -> None:
        order = self._amend_target(fields, "1", "reject_cancel")
        if order is None:
            return
        new_id, orig = fields.get(codec.CL_ORD_ID, ""), fields.get(codec.ORIG_CL_ORD_ID, "")
        if self.pending_first:
            order.status = "6"
            self.report(order, "6", cl_ord_id=new_id, orig=orig)
        order.status = "4"
        order.cl_ord_id = new_id
        order.known_ids.add(new_id)
        self.by_cl_ord_id[new_id] = order
        self.report(order, "4", orig=orig)

    def replace(self, fields: dict[int, str]) -> None:
        order = self._amend_target(fields, "2", "reject_replace")
        if order is None:
            return
        quantity = Decimal(fields.get(codec.ORDER_QTY, "0"))
        if quantity <= order.cum_qty:
            self._cancel_reject(fields, order, "2", "99", "quantity at or below the filled")
            return
        new_id, orig = fields.get(codec.CL_ORD_ID, ""), fields.get(codec.ORIG_CL_ORD_ID, "")
        if self.pending_first:
            previous, order.status = order.status, "E"
            self.report(order, "E", cl_ord_id=new_id, orig=orig)
            order.status = previous
        order.quantity = quantity
        order.price = Decimal(fields.get(codec.PRICE, "0") or order.price)
        order.cl_ord_id = new_id
        order.known_ids.add(new_id)
        self.by_cl_ord_id[new_id] = order
        order.status = "2" if order.cum_qty >= order.quantity else order.status
        self.report(order, "5", orig=orig)

    def order_status(self, fields: dict[int, str]) -> None:
        cl_ord_id = fields.get(codec.CL_ORD_ID, "")
        request = [(codec.ORD_STATUS_REQ_ID, fields.get(codec.ORD_STATUS_REQ_ID, ""))]
        order = self.by_cl_ord_id.get(cl_ord_id)
        if order is None:
            unknown = SimOrder(
                "NONE",
                cl_ord_id,
                fields.get(codec.SYMBOL, ""),
                fields.get(codec.SIDE, "1"),
                Decimal(0),
                Decimal(0),
                "2",
                status="8",
            )
            extra = [*request, (codec.ORD_REJ_REASON, codec.UNKNOWN_ORDER)]
            self.report(unknown, "I", text="unknown order", extra=extra, exec_id="0")
            return
        self.report(order, "I", cl_ord_id=cl_ord_id, extra=request, exec_id="0")

    def mass_status(self, fields: dict[int, str]) -> None:
        request_id = fields.get(codec.MASS_STATUS_REQ_ID, "")
        open_orders = [o for o in self.orders.values() if o.status in OPEN]
        if not open_orders:
            none = SimOrder("NONE", "", "NA", "1", Decimal(0), Decimal(0), "2")
            extra = [
                (codec.MASS_STATUS_REQ_ID, request_id),
                (codec.TOT_NUM_REPORTS, "0"),
                (codec.LAST_RPT_REQUESTED, "Y"),
            ]
            self.report(none, "I", extra=extra, exec_id="0")
            return
        for i, order in enumerate(open_orders, 1):
            extra = [
                (codec.MASS_STATUS_REQ_ID, request_id),
                (codec.TOT_NUM_REPORTS, str(len(open_orders))),
                (codec.LAST_RPT_REQUESTED, "Y" if i == len(open_orders) else "N"),
            ]
            self.report(order, "I", extra=extra, exec_id="0")

    # ------------------------------------------------------------ QuickFIX callbacks

    def onCreate(self, session_id: Any) -> None:
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:
        self.logged_on = True

    def onLogout(self, session_id: Any) -> None:
        self.logged_on = False

    def toAdmin(self, message: Any, session_id: Any) -> None:
        return None

    def fromAdmin(self, message: Any, session_id: Any) -> None:
        refuse = False
        try:
            header = message.getHeader()
            if header.getField(codec.MSG_TYPE) == "A":
                with self.lock:
                    refuse = self.refuse_logon
                    self.logon_seqs.append(int(header.getField(codec.MSG_SEQ_NUM)))
        except Exception:
            log.exception("fromAdmin failed")
        if refuse:
            raise fix.RejectLogon("the exchange is not taking logons now")

    def toApp(self, message: Any, session_id: Any) -> None:
        try:
            if not self.flag_next:
                return
            fields = codec.parse(message.toString())
            exec_id = fields.get(codec.EXEC_ID, "")
            with self.lock:
                flag = self.flag_next.pop(exec_id, None)
            if flag == "poss_dup":
                header = message.getHeader()
                header.setField(codec.POSS_DUP_FLAG, "Y")
                header.setField(122, header.getField(52))  # OrigSendingTime
        except Exception:
            log.exception("toApp failed")

    def fromApp(self, message: Any, session_id: Any) -> None:
        try:
            fields = codec.parse(message.toString())
            msg_type = fields.get(codec.MSG_TYPE, "")
            with self.lock:
                self.received.append(msg_type)
                if not self._held(msg_type, fields):
                    self._handle(msg_type, fields)
        except Exception:
            log.exception("the exchange failed on a message")

    def _held(self, msg_type: str, fields: dict[int, str]) -> bool:
        """Whether an armed hold_new / hold_replace / hold_cancel keeps this request unread
        until `release` (a repeat of a held request is dropped: it is queued already)."""
        action = HOLDS.get(msg_type)
        if action is None:
            return False
        cl_ord_id = fields.get(codec.CL_ORD_ID, "")
        if any(held.get(codec.CL_ORD_ID) == cl_ord_id for _, held in self.held):
            return True
        if self._rule(action) is None:
            return False
        self.held.append((msg_type, fields))
        return True

    def _handle(self, msg_type: str, fields: dict[int, str]) -> None:
        handler = {
            codec.NEW_ORDER_SINGLE: self.new_order,
            codec.ORDER_CANCEL_REQUEST: self.cancel,
            codec.ORDER_CANCEL_REPLACE_REQUEST: self.replace,
            codec.ORDER_STATUS_REQUEST: self.order_status,
            codec.ORDER_MASS_STATUS_REQUEST: self.mass_status,
        }.get(msg_type)
        if handler is not None:
            handler(fields)


HOLDS = {
    codec.NEW_ORDER_SINGLE: "hold_new",
    codec.ORDER_CANCEL_REPLACE_REQUEST: "hold_replace",
    codec.ORDER_CANCEL_REQUEST: "hold_cancel",
}
