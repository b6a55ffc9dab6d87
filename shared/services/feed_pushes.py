"""The live-feed pushes of a projected batch: each order's applied events (rendered when
its owner listens) and their executions, each fill with the account's position right after
it, numbered per account stream in one store call per account (`Pushes.send`), in events'
order. A failed push is logged and skipped: clients re-sync over REST by seq."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from shared.domain.enums import Side
from shared.domain.events import OrderEvent
from shared.domain.instrument import Instrument
from shared.feeds.publisher import Numbers
from shared.observability import tracing
from shared.ports.notifier import NotifierError
from shared.ports.store_executions import Execution
from shared.services.deps import Deps
from shared.services.views import View, execution_view, order_view

log = logging.getLogger(__name__)

Pushed = list[tuple[OrderEvent, View | None]]  # an order's applied events, rendered if listened


class Pushes:
    """A batch's live-feed pushes, to send once its writes are done."""

    def __init__(
        self,
        instrument: Instrument,
        by_order: Mapping[str, list[OrderEvent]],
        pushed: Mapping[str, Pushed],
        executions: Mapping[int, Execution],
        positions_after: Mapping[str, str],
    ) -> None:
        self.instrument = instrument
        self.by_order = by_order
        self.pushed = pushed
        self.executions = executions
        self.positions_after = positions_after
        self.applied = sum(len(events) for events in pushed.values())

    async def send(self, deps: Deps, alongside: Awaitable[None]) -> None:
        """Take each account's stream numbers for the batch at once (one store call each,
        run together with `alongside`), then push each order's messages in order."""
        messages: dict[str, int] = {}
        for order_id, events in self.by_order.items():
            count = _messages(events, self.pushed.get(order_id, []), self.executions)
            messages[events[0].account_id] = messages.get(events[0].account_id, 0) + count
        wanted = [
            (account, count, deps.feeds.account_listened(account))
            for account, count in messages.items()
            if count
        ]
        numbers = await deps.feeds.batch_numbers(wanted, alongside)
        with tracing.stage("feed push"):
            for order_id, events in self.by_order.items():
                if (block := numbers.get(events[0].account_id)) is not None:
                    done = self.pushed.get(order_id, [])
                    await _push_order(
                        deps,
                        self.instrument,
                        events,
                        done,
                        self.executions,
                        self.positions_after,
                        block,
                    )


async def positions_after(
    deps: Deps,
    instrument: Instrument,
    executions: Mapping[int, Execution],
    positions_written: Awaitable[object] | None,
) -> dict[str, str]:
    """Each pushed fill's `position_quantity`: its account's net position in the instrument
    right after it (execution id -> signed decimal), for the accounts listening. Exact:
    the batch's position writes are done by now, and one instrument's batches are projected
    one at a time, so the stored position is the one after the batch's last fill; each
    earlier fill's is that less the later fills. Empty when the position write failed (the
    redelivery writes it; the fills then go out without it)."""
    listened: dict[str, list[Execution]] = {}
    for _, execution in sorted(executions.items()):
        if deps.feeds.account_listened(execution.account_id):
            listened.setdefault(execution.account_id, []).append(execution)
    if not listened or positions_written is None:
        return {}
    try:
        await positions_written
    except Exception:
        return {}
    after: dict[str, str] = {}
    for account_id, fills in listened.items():
        position = await deps.store.positions.get(account_id, instrument.symbol)
        net = position.net_quantity if position is not None else 0
        for fill in reversed(fills):
            text = instrument.quantity_str(abs(net)) if net else "0"
            after[fill.execution_id] = "-" + text if net < 0 else text
            net -= fill.quantity if fill.side is Side.BUY else -fill.quantity
    return after


def _messages(events: list[OrderEvent], pushed: Pushed, executions: Mapping[int, Execution]) -> int:
    """How many messages `_push_order` numbers for the order."""
    applied = sum(2 if event.seq in executions else 1 for event, _ in pushed)
    return applied + sum(1 for event in events if event.order_seq == 0)


async def _push_order(
    deps: Deps,
    instrument: Instrument,
    events: list[OrderEvent],
    pushed: Pushed,
    executions: Mapping[int, Execution],
    positions_after: Mapping[str, str],
    numbers: Numbers,
) -> None:
    """Push the order's applied events (and their executions, each with the account's
    position right after it) to its owner's live feed, numbered from the account's
    `numbers` (those nobody could receive are skipped)."""
    for event, view in pushed:
        execution = executions.get(event.seq)
        if view is None or not numbers.heard:
            numbers.skip(1 if execution is None else 2)
            continue
        await _notify_order(deps, event, view, numbers)
        if execution is not None:
            reported = execution_view(execution, instrument)
            position = positions_after.get(execution.execution_id)
            if position is not None:
                reported["position_quantity"] = position
            await _push(deps.feeds.execution_reported, execution.account_id, reported, numbers)
    for event in events:
        if event.order_seq == 0:
            # An answer about an order the matcher no longer holds: nothing to apply.
            if not numbers.heard:
                numbers.skip()
                continue
            order = await deps.store.orders.get_any(event.order_id)
            view = {"order_id": event.order_id} if order is None else order_view(order, instrument)
            await _notify_order(deps, event, view, numbers)


async def _notify_order(deps: Deps, event: OrderEvent, view: View, numbers: Numbers) -> None:
    data: View = dict(view)
    data["event"] = event.KIND
    reason = getattr(event, "reason", None)
    if reason is not None:
        data["event_reason"] = reason
    await _push(deps.feeds.order_updated, event.account_id, data, numbers)


async def _push(
    send: Callable[[str, Mapping[str, object], Numbers], Awaitable[int]],
    account_id: str,
    data: View,
    numbers: Numbers,
) -> None:
    try:
        await send(account_id, data, numbers)
    except NotifierError as error:
        log.warning("live feed push to %s failed: %s", account_id, error)
