"""Shadow mode's record on an order: what the fill simulator did with its copy (see
`matcher.engine.shadow`), beside when the real order first filled and ended, all from event
timestamps (command times), so the comparison is the same after a replay of the journal.

Applied from ShadowFilled / ShadowClosed in instrument sequence order; an event at or below
`seq` was applied before (a redelivery) and changes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shared.domain.events import Event, ShadowClosed, ShadowFilled


@dataclass(slots=True)
class ShadowRecord:
    seq: int = 0  # the last shadow event applied
    cum_qty: int = 0
    notional: int = 0  # sum of quantity x price, ticks x lots
    fees: int = 0
    canceled_qty: int = 0
    first_fill_ts: int = 0
    done_ts: int = 0  # when the copy filled completely or ended (0: still working)
    real_first_fill_ts: int = 0
    real_done_ts: int = 0

    def apply(self, event: Event) -> bool:
        """Apply one shadow event; False when it was applied before."""
        if event.seq <= self.seq:
            return False
        self.seq = event.seq
        if isinstance(event, ShadowFilled):
            self.cum_qty = event.cum_qty
            self.notional += event.last_qty * event.last_px
            self.fees += event.fee
            if not self.first_fill_ts:
                self.first_fill_ts = event.ts
            if event.leaves_qty == 0:
                self.done_ts = event.ts
        elif isinstance(event, ShadowClosed):
            self.canceled_qty += event.canceled_qty
            self.done_ts = event.ts
        return True

    def to_doc(self) -> dict[str, int]:
        return asdict(self)

    @staticmethod
    def from_doc(doc: dict[str, int]) -> ShadowRecord:
        return ShadowRecord(**doc)
