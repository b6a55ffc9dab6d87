"""The executions projector: applies the matcher's events to orders (each keeps the seqs of
its events, its audit trail in the journal, and when the matcher accepted, first filled
and ended it, for execution analytics), executions and positions (with their money), then
pushes the changes to the owner's live feed.

Idempotent by construction: an order refuses an event it has applied (DuplicateEvent, by
per-order sequence) and executions and positions are keyed by execution id, so a redelivered
batch changes nothing. An event that arrives before an earlier one of its order raises
EventOutOfOrder: the message is abandoned and delivered again later. A failed write raises
too; only a failed live-feed push is logged and skipped (clients re-sync over REST by seq).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

from shared.all_finished import all_finished
from shared.domain.enums import Liquidity, Side
from shared.domain.events import Event, OrderEvent, OrderFilled
from shared.domain.ids import execution_id, trade_id
from shared.domain.instrument import Instrument
from shared.domain.order import DuplicateEvent, Order
from shared.domain.positions import settlement_day
from shared.messages import EventBatch
from shared.ports.notifier import NotifierError
from shared.ports.store_executions import Execution
from shared.services.deps import Deps
from shared.services.orders_io import change_order, remember
from shared.services.views import View, execution_view, order_view

log = logging.getLogger(__name__)


class UnknownInstrument(Exception):
    """Events for an instrument the store does not know (a poison message)."""


async def project_batch(deps: Deps, batch: EventBatch) -> int:
    """Apply every event of the batch, then raise the instrument's projected mark to the
    batch's last seq; returns how many events changed an order.

    A batch costs a few store calls, however many events and orders it has. First, all at
    once: the facts (every fill's execution and position change, one call each) and the
    orders (read in one call, then written in one call, each with all its events of the
    batch applied in their order; each write is idempotent, version-checked and independent
    of the others). Then the mark. The live-feed pushes follow the writes, each order's in
    its events' order. If any part fails, the rest still finishes before the error is
    raised, so a redelivery never races with the remains of the first delivery."""
    order_events = [e for e in batch.events if isinstance(e, OrderEvent)]
    applied = 0
    if order_events:  # else trading state changes: the admin service stored the state
        instrument = await deps.store.instruments.get(batch.symbol)
        if instrument is None:
            raise UnknownInstrument(batch.symbol)
        matches = matched_trades(batch.events)
        executions: dict[int, Execution] = {
            event.seq: fill_execution(event, event.trade_seq in matches, instrument.settlement_days)
            for event in order_events
            if isinstance(event, OrderFilled) and event.order_seq != 0
        }
        fills = list(executions.values())
        facts: list[Awaitable[object]] = (
            [deps.store.executions.append_all(fills), deps.store.positions.apply_fills(fills)]
            if fills
            else []
        )
        by_order: dict[str, list[OrderEvent]] = {}
        for event in order_events:
            by_order.setdefault(event.order_id, []).append(event)
        # All at once (one group commit on SQLite): each write is idempotent, so whatever a
        # crash leaves undone, the redelivery completes; the mark below comes only after.
        outcomes = await all_finished(
            [*facts, _project_orders(deps, instrument, batch, by_order, executions)]
        )
        applied = cast("int", outcomes[-1])
    # A high-water mark, not a completeness proof (batches of one instrument come in order,
    # so everything before it was applied or dead-lettered): the local run replays the
    # journal after it when its volatile bus lost the batches in flight.
    await deps.store.journal.mark_projected(batch.symbol, batch.last_seq)
    return applied


def matched_trades(events: tuple[Event, ...] | list[Event]) -> set[int]:
    """The trade sequences of the batch's matches: a maker and a taker fill share one.
    A fill alone on its trade sequence is a paper fill on the simulated market."""
    sides: dict[int, int] = {}
    for event in events:
        if isinstance(event, OrderFilled):
            sides[event.trade_seq] = sides.get(event.trade_seq, 0) + 1
    return {trade_seq for trade_seq, count in sides.items() if count == 2}


def fill_execution(event: OrderFilled, matched: bool = True, settlement_days: int = 0) -> Execution:
    """The execution record of a fill event (ids derive from instrument + sequence). A
    simulated (paper) fill gets no trade id: it is nobody's trade on the public tape. It
    settles `settlement_days` business days after its day (the instrument's cycle)."""
    return Execution(
        execution_id=execution_id(event.symbol, event.seq),
        order_id=event.order_id,
        account_id=event.account_id,
        symbol=event.symbol,
        side=Side(event.side),
        quantity=event.last_qty,
        price=event.last_px,
        liquidity=Liquidity(event.liquidity),
        fee=event.fee,
        trade_id=trade_id(event.symbol, event.trade_seq) if matched else "",
        executed_at=event.ts,
        settle_day=settlement_day(event.ts, settlement_days),
    )


Pushed = list[tuple[OrderEvent, View | None]]  # an order's applied events, rendered if listened


async def _project_orders(
    deps: Deps,
    instrument: Instrument,
    batch: EventBatch,
    by_order: Mapping[str, list[OrderEvent]],
    executions: Mapping[int, Execution],
) -> int:
    """Apply each order's events of the batch: one read and one write for all the orders
    (an order another writer changed meanwhile goes again on its own, from a fresh read),
    then each order's pushes, in its events' order. Returns how many events were applied."""
    times = batch.processing_times()
    held = {
        order_id: [event for event in events if event.order_seq != 0]
        for order_id, events in by_order.items()
    }
    stored = await deps.store.orders.get_any_of([oid for oid, events in held.items() if events])
    pushed: dict[str, Pushed] = {}
    changed: list[Order] = []
    for order_id, events in held.items():
        order = stored.get(order_id)
        if order is not None and events:
            pushed[order_id] = _apply(order, events, instrument, deps, times)
            if pushed[order_id]:
                changed.append(order)
    written = await deps.store.orders.update_all([(order, order.version) for order in changed])
    again: list[str] = [oid for oid, events in held.items() if events and oid not in stored]
    for order, ok in zip(changed, written, strict=True):
        if ok:
            await remember(deps, order)
        else:
            again.append(order.order_id)
    if again:
        redone = await all_finished(
            [_project_alone(deps, instrument, held[oid], times) for oid in again]
        )
        pushed.update(zip(again, redone, strict=True))
    for order_id, events in by_order.items():
        await _push_order(deps, instrument, events, pushed.get(order_id, []), executions)
    return sum(len(events) for events in pushed.values())


def _apply(
    order: Order,
    held: list[OrderEvent],
    instrument: Instrument,
    deps: Deps,
    times: Mapping[int, int],
) -> Pushed:
    """Apply the events the order has not applied yet (with when the matcher ran each);
    each with the order's view after it when the owner has a live connection to push it
    to."""
    listened = deps.feeds.account_listened(order.account_id)
    pushed: Pushed = []
    for event in held:
        try:
            order.apply(event, times.get(event.seq, 0))
        except DuplicateEvent:
            continue
        pushed.append((event, order_view(order, instrument) if listened else None))
    return pushed


async def _project_alone(
    deps: Deps, instrument: Instrument, held: list[OrderEvent], times: Mapping[int, int]
) -> Pushed:
    """One order's events in a write of its own, read again after each version conflict
    (NotFound when the order does not exist)."""
    pushed: Pushed = []

    def apply(order: Order) -> None:
        pushed[:] = _apply(order, held, instrument, deps, times)
        if not pushed:
            raise DuplicateEvent("every event applied before")  # nothing to write

    with contextlib.suppress(DuplicateEvent):
        await change_order(deps, lambda: deps.store.orders.get_any(held[0].order_id), apply)
    return pushed


async def _push_order(
    deps: Deps,
    instrument: Instrument,
    events: list[OrderEvent],
    pushed: Pushed,
    executions: Mapping[int, Execution],
) -> None:
    """Push the order's applied events (and their executions) to its owner's live feed."""
    account_id = events[0].account_id
    for event, view in pushed:
        execution = executions.get(event.seq)
        if view is None:
            deps.feeds.pass_over(account_id, 1 if execution is None else 2)
            continue
        await _notify_order(deps, event, view)
        if execution is not None:
            await _push(
                deps.feeds.execution_reported,
                execution.account_id,
                execution_view(execution, instrument),
            )
    for event in events:
        if event.order_seq == 0:
            # An answer about an order the matcher no longer holds: nothing to apply.
            if not deps.feeds.account_listened(account_id):
                deps.feeds.pass_over(account_id)
                continue
            order = await deps.store.orders.get_any(event.order_id)
            view = {"order_id": event.order_id} if order is None else order_view(order, instrument)
            await _notify_order(deps, event, view)


async def _notify_order(deps: Deps, event: OrderEvent, view: View) -> None:
    data: View = dict(view)
    data["event"] = event.KIND
    reason = getattr(event, "reason", None)
    if reason is not None:
        data["event_reason"] = reason
    await _push(deps.feeds.order_updated, event.account_id, data)


async def _push(
    send: Callable[[str, Mapping[str, object]], Awaitable[int]], account_id: str, data: View
) -> None:
    try:
        await send(account_id, data)
    except NotifierError as error:
        log.warning("live feed push to %s failed: %s", account_id, error)
