"""Settlement: each execution's cash settles at the start (00:00 UTC) of its settlement
day, T+n business days after its trade day (n = the instrument's cycle when the fill was
projected; see `shared.domain.positions.settlement_day`), or earlier by hand.

Settling by calendar is a function of time, not a stored step: an execution whose day has
begun counts as settled wherever it is read, so no job has to run, and replaying the
journal gives the same unsettled cash for the same moment. Settling by hand is an
administrator's audited action on one trade (both sides), idempotent: the cash leaves its
position's unsettled bucket once.
"""

from __future__ import annotations

from shared.domain.positions import utc_day
from shared.ports.store_executions import Execution
from shared.services import audit, codes
from shared.services.deps import Deps
from shared.services.errors import NotFound


def is_settled(execution: Execution, now: int) -> bool:
    return bool(execution.settled_at) or execution.settle_day <= utc_day(now)


async def settle_trade(deps: Deps, trade_id: str, actor: str) -> list[Execution]:
    """Settle both sides of the trade now (what is settled already stays as it is); returns
    the trade's executions as they are after. NotFound for an unknown trade (a paper fill
    has no trade: it settles by the calendar)."""
    executions = await deps.store.executions.list_by_trade(trade_id)
    if not executions:
        raise NotFound(codes.TRADE_NOT_FOUND, f"no trade {trade_id}", "trade_id")
    now = deps.clock()
    settled = []
    for execution in executions:
        if not is_settled(execution, now) and await deps.store.positions.settle(execution, now):
            settled.append(execution.execution_id)
    after = await deps.store.executions.list_by_trade(trade_id)
    if settled:
        await audit.record(
            deps,
            actor,
            "trade.settled",
            "trade",
            trade_id,
            {e.execution_id: {"settled": False} for e in executions if e.execution_id in settled},
            {e.execution_id: {"settled": True, "settled_at": e.settled_at} for e in after},
            f"settled by hand: {', '.join(settled)}",
        )
    return after
