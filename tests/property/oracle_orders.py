"""The oracle's orders and contingent groups: plain records, no book structures.

An order is in one place: "hand" (accepted, or taking), "book", "parked", "held",
"pending" or "done". Priority is one counter (`prio`), taken each time an order enters the
book, the stops or the held legs (an iceberg's refill takes a new one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Norm = tuple[object, ...]


@dataclass(eq=False)
class OGroup:
    cls: str
    entry: OOrder | None = None
    tp: OOrder | None = None
    sl: OOrder | None = None

    def exits(self) -> list[OOrder]:
        return [o for o in (self.tp, self.sl) if o is not None and o.place != "done"]

    def other_exit(self, o: OOrder) -> OOrder | None:
        other = self.sl if o is self.tp else self.tp
        return other if other is not None and other.place != "done" else None

    def live_entry(self) -> OOrder | None:
        e = self.entry
        return e if e is not None and e.place != "done" else None


@dataclass(eq=False)
class OOrder:
    id: str
    acct: str
    buy: bool
    type: str
    tif: str
    qty: int
    px: int
    stop: int
    expire: int
    stp: str
    leaves: int
    cum: int = 0
    held: int = 0
    prio: int = 0
    accept: int = 0  # acceptance order (GTD expiry ties)
    place: str = "hand"
    display: int = 0
    shown: int = 0
    post_only: bool = False
    reduce_only: bool = False
    trail_amount: int = 0
    trail_cbps: int = 0
    hwm: int = 0
    leg: str = ""
    group: OGroup | None = None
    was_triggered: bool = False
    ro_order: int = 0  # acceptance order among reduce-only orders
    fields: dict[str, object] = field(default_factory=dict)

    @property
    def market(self) -> bool:
        return self.px == 0

    @property
    def trailing(self) -> bool:
        return self.type == "trailing_stop"

    @property
    def waits(self) -> bool:
        return self.type in ("stop", "stop_limit", "trailing_stop")

    @property
    def open(self) -> int:
        return self.leaves + self.held

    @property
    def done_qty(self) -> int:
        return self.qty - self.leaves - self.held
