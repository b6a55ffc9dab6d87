"""How much a fill-or-kill taker could fill right now: its matching step played on paper.

FOK is checked before any fill, so the check must see what the step would see: makers in
time priority, an iceberg's next slices at the back of its level (its hidden part counts),
GTD orders past their time expiring on contact, self-trade prevention (an own order ends
the count unless the taker cancels the oldest), an OCO pair never filling more than once,
and a maker account's reduce-only orders trimmed as its other orders fill.
"""

from __future__ import annotations

from matcher.engine.book import BookSide
from matcher.engine.working import RestingOrder
from shared.domain.codes import CANCEL_OLDEST, ENTRY, GTD, SELL, TAKE_PROFIT


def fillable(
    opp: BookSide,
    t: RestingOrder,
    is_market: bool,
    ts: int,
    reduce_only: dict[str, list[RestingOrder]],
    running: dict[str, int],
) -> int:
    """What taker `t` would fill against side `opp`, up to its leaves."""
    need = t.leaves_qty
    total = 0
    live_left: dict[str, int] = {}  # a maker's live part as the step would leave it
    shown_left: dict[str, int] = {}  # an iceberg's displayed part, likewise
    nets: dict[str, int] = {}  # a maker account's position, likewise
    for price in opp.best_first():
        if not is_market and (price > t.price if t.is_buy else price < t.price):
            break
        queue = opp.levels[price].live_orders()
        i = 0
        while i < len(queue):
            m = queue[i]
            i += 1
            live = live_left.get(m.order_id, m.leaves_qty)
            if live <= 0:
                continue
            if m.expire_at and m.expire_at <= ts and m.time_in_force == GTD:
                continue  # expires on contact: it fills nothing
            if m.account_id == t.account_id:
                if t.self_match_prevention != CANCEL_OLDEST:
                    return total
                continue
            shown = live
            if m.display_qty:
                shown = shown_left.get(m.order_id, m.visible)
                if shown > live:
                    shown = live
            take = shown if shown < need - total else need - total
            total += take
            if total >= need:
                return total
            live -= take
            live_left[m.order_id] = live
            if m.display_qty and live > 0:
                shown_left[m.order_id] = m.display_qty if m.display_qty < live else live
                queue.append(m)  # its next slice waits at the back
            g = m.group
            if g is not None and m.leg != ENTRY:
                sibling = g.stop_loss if m.leg == TAKE_PROFIT else g.take_profit
                if sibling is not None:
                    left = live_left.get(sibling.order_id, sibling.leaves_qty) - take
                    live_left[sibling.order_id] = left if left > 0 else 0
            mine = reduce_only.get(m.account_id)
            if mine:
                _trim_on_paper(m, take, mine, running, nets, live_left)
    return total


def _trim_on_paper(
    m: RestingOrder,
    take: int,
    mine: list[RestingOrder],
    running: dict[str, int],
    nets: dict[str, int],
    live_left: dict[str, int],
) -> None:
    """Maker `m`'s account trims its reduce-only orders after `m` filled `take`."""
    account = m.account_id
    net = nets.get(account)
    if net is None:
        net = running.get(account, 0)
    net += take if m.is_buy else -take
    nets[account] = net
    sells = -(net if net > 0 else 0)
    buys = -(-net if net < 0 else 0)
    for o in mine:
        open_qty = live_left.get(o.order_id, o.leaves_qty) + o.held_qty
        if o.side == SELL:
            sells += open_qty
        else:
            buys += open_qty
    for o in reversed(mine):
        excess = sells if o.side == SELL else buys
        if excess <= 0:
            continue
        live = live_left.get(o.order_id, o.leaves_qty)
        cut = excess if excess < live + o.held_qty else live + o.held_qty
        if o.side == SELL:
            sells -= cut
        else:
            buys -= cut
        live_left[o.order_id] = live - cut if cut < live else 0
