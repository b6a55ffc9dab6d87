"""The simulated exchange's orders and armed rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from gateway.fix import codec

OPEN = {"0", "1", "A", "6", "E", "9"}  # new, partially filled, pending..., suspended
Fields = list[tuple[int, str]]


@dataclass(slots=True)
class SimOrder:
    venue_order_id: str
    cl_ord_id: str
    symbol: str
    side: str  # FIX Side
    quantity: Decimal
    price: Decimal
    ord_type: str
    cum_qty: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    status: str = "0"  # FIX OrdStatus
    known_ids: set[str] = field(default_factory=set)
    sent: list[Fields] = field(default_factory=list)  # every report sent, for duplicates

    @property
    def leaves(self) -> Decimal:
        return Decimal(0) if self.status not in OPEN else self.quantity - self.cum_qty

    @property
    def avg_px(self) -> Decimal:
        return self.notional / self.cum_qty if self.cum_qty else Decimal(0)

    def view(self) -> dict[str, object]:
        return {
            "venue_order_id": self.venue_order_id,
            "cl_ord_id": self.cl_ord_id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": codec.decimal_text(self.quantity),
            "price": codec.decimal_text(self.price),
            "cum_qty": codec.decimal_text(self.cum_qty),
            "leaves_qty": codec.decimal_text(self.leaves),
            "status": self.status,
            "reports": len(self.sent),
        }


@dataclass(slots=True)
class Rule:
    action: str  # reject_new | reject_cancel | reject_replace | throttle_new | drop_new | hold_*
    text: str
    times: int
