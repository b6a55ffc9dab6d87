"""FIX 4.4 messages to and from the port's types: pure functions over (tag, value) strings.

Outgoing requests become ordered (tag, value) lists that `session.build_message` turns into
a QuickFIX message; incoming messages are parsed from their raw text (QuickFIX hands the
application a message that is only valid during the callback, so the callback reads the
text once and everything else works on plain Python values). Quantities and prices stay
decimal strings end to end: QuickFIX's typed quantity fields are binary doubles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import (
    ReportKind,
    VenueCancel,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
)

SOH = "\x01"
Fields = list[tuple[int, str]]

# Tags used here (FIX 4.4).
ACCOUNT, AVG_PX, CL_ORD_ID, CUM_QTY, EXEC_ID, EXEC_REF_ID = 1, 6, 11, 14, 17, 19
HANDL_INST, LAST_PX, LAST_QTY, MSG_SEQ_NUM, MSG_TYPE, ORDER_ID = 21, 31, 32, 34, 35, 37
ORDER_QTY, ORD_STATUS, ORD_TYPE, ORIG_CL_ORD_ID, POSS_DUP_FLAG, PRICE = 38, 39, 40, 41, 43, 44
REF_SEQ_NUM, SIDE, SYMBOL, TEXT, TIME_IN_FORCE, TRANSACT_TIME = 45, 54, 55, 58, 59, 60
POSS_RESEND, STOP_PX, CXL_REJ_REASON, ORD_REJ_REASON, EXPIRE_TIME = 97, 99, 102, 103, 126
EXEC_TYPE, LEAVES_QTY, CXL_REJ_RESPONSE_TO, MASS_STATUS_REQ_ID = 150, 151, 434, 584
MASS_STATUS_REQ_TYPE, ORD_STATUS_REQ_ID, TOT_NUM_REPORTS, LAST_RPT_REQUESTED = 585, 790, 911, 912
REF_MSG_TYPE, BUSINESS_REJECT_REF_ID, BUSINESS_REJECT_REASON = 372, 379, 380
USERNAME, PASSWORD = 553, 554

NEW_ORDER_SINGLE, ORDER_CANCEL_REQUEST, ORDER_CANCEL_REPLACE_REQUEST = "D", "F", "G"
ORDER_STATUS_REQUEST, ORDER_MASS_STATUS_REQUEST = "H", "AF"
EXECUTION_REPORT, ORDER_CANCEL_REJECT, BUSINESS_MESSAGE_REJECT = "8", "9", "j"

SIDES = {Side.BUY: "1", Side.SELL: "2"}
SIDE_OF = {v: k for k, v in SIDES.items()}
ORD_TYPES = {OrderType.MARKET: "1", OrderType.LIMIT: "2", OrderType.STOP: "3"}
ORD_TYPES[OrderType.STOP_LIMIT] = "4"
TIME_IN_FORCES = {
    TimeInForce.DAY: "0",
    TimeInForce.GTC: "1",
    TimeInForce.IOC: "3",
    TimeInForce.FOK: "4",
    TimeInForce.GTD: "6",
}
EXEC_TYPES = {
    "0": ReportKind.NEW,
    "3": ReportKind.DONE_FOR_DAY,
    "4": ReportKind.CANCELED,
    "5": ReportKind.REPLACED,
    "6": ReportKind.PENDING_CANCEL,
    "7": ReportKind.STOPPED,
    "8": ReportKind.REJECTED,
    "9": ReportKind.SUSPENDED,
    "A": ReportKind.PENDING_NEW,
    "B": ReportKind.CALCULATED,
    "C": ReportKind.EXPIRED,
    "D": ReportKind.RESTATED,
    "E": ReportKind.PENDING_REPLACE,
    "F": ReportKind.TRADE,
    "G": ReportKind.TRADE_CORRECT,
    "H": ReportKind.TRADE_CANCEL,
    "I": ReportKind.STATUS,
}
ORD_STATUSES = {
    "0": VenueOrdStatus.NEW,
    "1": VenueOrdStatus.PARTIALLY_FILLED,
    "2": VenueOrdStatus.FILLED,
    "3": VenueOrdStatus.DONE_FOR_DAY,
    "4": VenueOrdStatus.CANCELED,
    "6": VenueOrdStatus.PENDING_CANCEL,
    "7": VenueOrdStatus.STOPPED,
    "8": VenueOrdStatus.REJECTED,
    "9": VenueOrdStatus.SUSPENDED,
    "A": VenueOrdStatus.PENDING_NEW,
    "B": VenueOrdStatus.CALCULATED,
    "C": VenueOrdStatus.EXPIRED,
    "D": VenueOrdStatus.ACCEPTED_FOR_BIDDING,
    "E": VenueOrdStatus.PENDING_REPLACE,
}
UNKNOWN_ORDER = "5"
"""OrdRejReason / CxlRejReason... "unknown order" (103=5 on a status answer)."""

THROTTLE_WORDS = ("throttl", "rate limit", "too many")


def utc_timestamp(ns: int) -> str:
    """FIX UTCTimestamp with milliseconds: YYYYMMDD-HH:MM:SS.sss."""
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    return f"{moment:%Y%m%d-%H:%M:%S}.{(ns // 1_000_000) % 1000:03d}"


def parse_utc_timestamp(text: str) -> int:
    """ns since the epoch from a FIX UTCTimestamp (0 when it does not parse)."""
    head, _, frac = text.partition(".")
    try:
        moment = datetime.strptime(head, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return 0
    digits = (frac + "000000000")[:9] if frac.isdigit() else "0"
    return int(moment.timestamp()) * 1_000_000_000 + int(digits)


def decimal_text(value: Decimal) -> str:
    """A FIX float as plain decimal digits (never an exponent)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _resend(fields: Fields, resend: bool) -> Fields:
    # PossResend is a header field; session.build_message puts it there.
    return [(POSS_RESEND, "Y"), *fields] if resend else fields


def _prices(order_type: OrderType, price: Decimal | None, stop: Decimal | None) -> Fields:
    fields: Fields = []
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and price is not None:
        fields.append((PRICE, decimal_text(price)))
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and stop is not None:
        fields.append((STOP_PX, decimal_text(stop)))
    return fields


def new_order_single(order: VenueOrder) -> tuple[str, Fields]:
    fields: Fields = [(CL_ORD_ID, order.cl_ord_id)]
    if order.account:
        fields.append((ACCOUNT, order.account))
    fields += [
        (HANDL_INST, "1"),
        (SYMBOL, order.symbol),
        (SIDE, SIDES[order.side]),
        (TRANSACT_TIME, utc_timestamp(order.transact_time)),
        (ORDER_QTY, decimal_text(order.quantity)),
        (ORD_TYPE, ORD_TYPES[order.order_type]),
        *_prices(order.order_type, order.price, order.stop_price),
        (TIME_IN_FORCE, TIME_IN_FORCES[order.time_in_force]),
    ]
    if order.time_in_force is TimeInForce.GTD and order.expire_at:
        fields.append((EXPIRE_TIME, utc_timestamp(order.expire_at)))
    return NEW_ORDER_SINGLE, _resend(fields, order.resend)


def order_cancel_request(request: VenueCancel) -> tuple[str, Fields]:
    fields: Fields = [(ORIG_CL_ORD_ID, request.orig_cl_ord_id), (CL_ORD_ID, request.cl_ord_id)]
    if request.venue_order_id:
        fields.append((ORDER_ID, request.venue_order_id))
    fields += [
        (SYMBOL, request.symbol),
        (SIDE, SIDES[request.side]),
        (TRANSACT_TIME, utc_timestamp(request.transact_time)),
        (ORDER_QTY, decimal_text(request.quantity)),
    ]
    return ORDER_CANCEL_REQUEST, _resend(fields, request.resend)


def order_cancel_replace_request(request: VenueReplace) -> tuple[str, Fields]:
    fields: Fields = [(ORIG_CL_ORD_ID, request.orig_cl_ord_id), (CL_ORD_ID, request.cl_ord_id)]
    if request.venue_order_id:
        fields.append((ORDER_ID, request.venue_order_id))
    fields += [
        (HANDL_INST, "1"),
        (SYMBOL, request.symbol),
        (SIDE, SIDES[request.side]),
        (TRANSACT_TIME, utc_timestamp(request.transact_time)),
        (ORDER_QTY, decimal_text(request.quantity)),
        (ORD_TYPE, ORD_TYPES[request.order_type]),
        *_prices(request.order_type, request.price, request.stop_price),
        (TIME_IN_FORCE, TIME_IN_FORCES[request.time_in_force]),
    ]
    return ORDER_CANCEL_REPLACE_REQUEST, _resend(fields, request.resend)


def request_message(request: VenueOrder | VenueCancel | VenueReplace) -> tuple[str, Fields]:
    """The message of any request: NewOrderSingle, OrderCancelRequest or ...ReplaceRequest."""
    if isinstance(request, VenueOrder):
        return new_order_single(request)
    if isinstance(request, VenueCancel):
        return order_cancel_request(request)
    return order_cancel_replace_request(request)


def order_status_request(request_id: str, cl_ord_id: str, symbol: str, side: Side) -> Fields:
    return [
        (CL_ORD_ID, cl_ord_id),
        (SYMBOL, symbol),
        (SIDE, SIDES[side]),
        (ORD_STATUS_REQ_ID, request_id),
    ]


def order_mass_status_request(request_id: str) -> Fields:
    # 7: status for all orders (of this session).
    return [(MASS_STATUS_REQ_ID, request_id), (MASS_STATUS_REQ_TYPE, "7")]


def parse(raw: str) -> dict[int, str]:
    """Tag -> value of a raw FIX message; the first occurrence of a tag wins (repeating
    groups are not read here)."""
    fields: dict[int, str] = {}
    for part in raw.split(SOH):
        tag, sep, value = part.partition("=")
        if sep and tag.isdigit():
            fields.setdefault(int(tag), value)
    return fields


def _decimal(value: str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _qty(fields: dict[int, str], tag: int) -> Decimal:
    return _decimal(fields.get(tag)) or Decimal(0)


def execution_report(venue: str, fields: dict[int, str]) -> VenueReport:
    """The report of an ExecutionReport (35=8)."""
    exec_type = fields.get(EXEC_TYPE, "")
    kind = EXEC_TYPES.get(exec_type)
    if kind is None:
        raise ValueError(f"ExecType {exec_type!r} is not a FIX 4.4 ExecType")
    return VenueReport(
        venue=venue,
        kind=kind,
        cl_ord_id=fields.get(CL_ORD_ID, ""),
        exec_id=fields.get(EXEC_ID, ""),
        ord_status=ORD_STATUSES.get(fields.get(ORD_STATUS, ""), VenueOrdStatus.UNKNOWN),
        symbol=fields.get(SYMBOL, ""),
        side=SIDE_OF.get(fields.get(SIDE, "")),
        venue_order_id=fields.get(ORDER_ID, ""),
        orig_cl_ord_id=fields.get(ORIG_CL_ORD_ID, ""),
        order_qty=_decimal(fields.get(ORDER_QTY)),
        price=_decimal(fields.get(PRICE)),
        last_qty=_qty(fields, LAST_QTY),
        last_px=_qty(fields, LAST_PX),
        cum_qty=_qty(fields, CUM_QTY),
        leaves_qty=_qty(fields, LEAVES_QTY),
        avg_px=_qty(fields, AVG_PX),
        text=fields.get(TEXT, ""),
        reject_code=fields.get(ORD_REJ_REASON, ""),
        exec_ref_id=fields.get(EXEC_REF_ID, ""),
        request_id=fields.get(ORD_STATUS_REQ_ID) or fields.get(MASS_STATUS_REQ_ID, ""),
        transact_time=parse_utc_timestamp(fields.get(TRANSACT_TIME, "")),
        poss_dup=fields.get(POSS_DUP_FLAG) == "Y",
        poss_resend=fields.get(POSS_RESEND) == "Y",
        seq_num=int(fields.get(MSG_SEQ_NUM, "0") or 0),
    )


def order_cancel_reject(venue: str, fields: dict[int, str]) -> VenueReport:
    """The report of an OrderCancelReject (35=9); `exec_id` names the rejected request."""
    cl_ord_id = fields.get(CL_ORD_ID, "")
    return VenueReport(
        venue=venue,
        kind=ReportKind.CANCEL_REJECTED,
        cl_ord_id=cl_ord_id,
        exec_id=f"cxlrej:{cl_ord_id}",
        ord_status=ORD_STATUSES.get(fields.get(ORD_STATUS, ""), VenueOrdStatus.UNKNOWN),
        venue_order_id=fields.get(ORDER_ID, ""),
        orig_cl_ord_id=fields.get(ORIG_CL_ORD_ID, ""),
        text=fields.get(TEXT, ""),
        reject_code=fields.get(CXL_REJ_REASON, ""),
        request_id=fields.get(CXL_REJ_RESPONSE_TO, ""),  # 1: to a cancel, 2: to a replace
        transact_time=parse_utc_timestamp(fields.get(TRANSACT_TIME, "")),
        poss_dup=fields.get(POSS_DUP_FLAG) == "Y",
        poss_resend=fields.get(POSS_RESEND) == "Y",
        seq_num=int(fields.get(MSG_SEQ_NUM, "0") or 0),
    )


def is_throttle(text: str) -> bool:
    """Whether a reject's text says we sent too fast (FIX 4.4 has no code for it)."""
    lowered = text.lower()
    return any(word in lowered for word in THROTTLE_WORDS)
