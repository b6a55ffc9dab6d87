"""The accounts' net positions in an instrument, from every fill of both its venues.

The instrument's venues (`InstrumentVenues`) own the book and fold each command's fills into
it when the command is done, so it is exact between commands; a market folds what its current
command filled so far before it reads a position (a reduce-only order's acceptance). The
matching loop itself never touches it: a market keeps a running net, updated fill by fill,
only for the accounts that have open reduce-only orders there (`Market.running`), which is
what trimming them in the middle of a matching step needs.
"""

from __future__ import annotations

from typing import final

from shared.domain.codes import BUY
from shared.domain.events import Event, OrderFilled


@final
class PositionBook:
    """Net position per account (lots: + long, - short; flat accounts are not listed)."""

    __slots__ = ("folded_seq", "nets")

    def __init__(self) -> None:
        self.nets: dict[str, int] = {}
        self.folded_seq = 0  # the last event seq folded in

    def net(self, account_id: str) -> int:
        return self.nets.get(account_id, 0)

    def fold(self, out: list[Event]) -> None:
        """Fold in the fills of `out` not folded yet (events newer than `folded_seq`)."""
        folded = self.folded_seq
        end = len(out)
        i = end
        while i > 0 and out[i - 1].seq > folded:
            i -= 1
        if i == end:
            return
        nets = self.nets
        while i < end:
            e = out[i]
            i += 1
            if isinstance(e, OrderFilled):
                account = e.account_id
                qty = e.last_qty
                net = nets.get(account, 0) + (qty if e.side == BUY else -qty)
                if net:
                    nets[account] = net
                else:
                    del nets[account]
        self.folded_seq = out[end - 1].seq
