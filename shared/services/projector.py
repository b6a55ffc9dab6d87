"""The executions projector: applies the matcher's events to orders (each keeps the seqs of
its events, its audit trail in the journal, and when the matcher accepted, first filled
and ended it, for execution analytics), executions and positions (with their money), gives
back what the orders no longer hold of their accounts' limits (in the same write as each
order, see shared.services.limits), then pushes the changes to the owner's live feed
(shared.services.feed_pushes).

Idempotent by construction: an order refuses an event it has applied (DuplicateEvent, by
per-order sequence) and executions and positions are keyed by execution id, so a redelivered
batch changes nothing. An event that arrives before an earlier one of its order raises
EventOutOfOrder: the message is abandoned and delivered again later. A failed write raises
too; only a failed live-feed push is logged and skipped (clients re-sync over REST by seq).

Gaps are filled from the journal: a batch that starts past the instrument's projected mark
+ 1 follows batches that were never applied (dead-lettered after too many failures, or lost
with a volatile bus), so the journal entries in between are applied first; and the outbox
sweep applies the journal past the mark for an instrument whose last batches went missing
(`fill_projection_gaps`). Applying twice changes nothing, so a fill that races the trigger
is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Mapping
from typing import cast

from shared.all_finished import all_finished
from shared.domain.enums import Liquidity, Side
from shared.domain.events import Event, OrderEvent, OrderFilled, VenueAlert, event_from_dict
from shared.domain.ids import execution_id, trade_id
from shared.domain.instrument import Instrument
from shared.domain.order import DuplicateEvent, Order
from shared.domain.positions import settlement_day
from shared.messages import EventBatch
from shared.observability import metrics, stages
from shared.ports.store_executions import Execution
from shared.ports.store_journal import JournalRepository
from shared.ports.store_risk import LedgerChange
from shared.services import audit, limits
from shared.services.deps import Deps
from shared.services.feed_pushes import Pushed, Pushes, positions_after
from shared.services.orders_io import change_order, remember
from shared.services.shadow_projection import project_shadows, shadow_events
from shared.services.views import order_view

log = logging.getLogger(__name__)


# The projected marks this process set, per journal (marks never go back): a batch that
# follows one of them needs no read of the stored mark to know it leaves no gap.
_marks: weakref.WeakKeyDictionary[JournalRepository, dict[str, int]] = weakref.WeakKeyDictionary()


class UnknownInstrument(Exception):
    """Events for an instrument the store does not know (a poison message)."""


async def project_batch(deps: Deps, batch: EventBatch) -> int:
    """Apply every event of the batch, then raise the instrument's projected mark to the
    batch's last seq; returns how many events changed an order. Journal entries between
    the mark and the batch (batches that never got here) are applied first.

    A batch costs a few store calls, however many events and orders it has. First, all at
    once: the facts (every fill's execution and position change, one call each) and the
    orders (read in one call, then written in one call, each with all its events of the
    batch applied in their order; each write is idempotent, version-checked and independent
    of the others). Then the mark. The live-feed pushes follow the writes, each order's in
    its events' order. If any part fails, the rest still finishes before the error is
    raised, so a redelivery never races with the remains of the first delivery."""
    known = _marks.setdefault(deps.store.journal, {})
    if known.get(batch.symbol, -1) >= batch.first_seq - 1:
        return await _project(deps, batch)  # follows what this process applied: no gap
    projected = await deps.store.journal.projected_seq(batch.symbol)
    applied = 0
    if batch.first_seq > projected + 1:
        log.warning(
            "%s: events %d..%d never arrived; applying them from the journal",
            batch.symbol,
            projected + 1,
            batch.first_seq - 1,
        )
        applied, _ = await project_journal(deps, batch.symbol, projected + 1, batch.first_seq - 1)
    return applied + await _project(deps, batch)


async def project_journal(
    deps: Deps, symbol: str, first: int, last: int, *, older_than: int | None = None
) -> tuple[int, int]:
    """Apply the journal entries of `symbol` that hold events `first..last`, each as the
    batch it was published in, raising the projected mark after each; with `older_than`,
    stop at the first entry whose command is younger (ns). Returns (events that changed
    an order, entries applied)."""
    applied = entries = 0
    async for entry in deps.store.journal.read_from(symbol, first):
        if entry.first_seq > last:
            break
        ts = entry.command.get("ts")
        if older_than is not None and isinstance(ts, int) and ts > older_than:
            break
        events = tuple(event_from_dict(e) for e in entry.events)
        processed = ((entry.first_seq, entry.processed_at),) if entry.processed_at else ()
        batch = EventBatch(
            symbol, entry.command_id, entry.first_seq, entry.last_seq, events, processed
        )
        applied += await _project(deps, batch)
        entries += 1
    return applied, entries


async def fill_projection_gaps(deps: Deps, grace_ns: int) -> int:
    """For every instrument whose published events are not all applied, apply from the
    journal those whose command is older than the grace (younger ones may still be on
    their way through the bus); returns how many journal entries were applied."""
    filled = 0
    older_than = deps.clock() - grace_ns
    for instrument in await deps.store.instruments.list_instruments():
        symbol = instrument.symbol
        projected = await deps.store.journal.projected_seq(symbol)
        published = await deps.store.journal.published_seq(symbol)
        if projected < published:
            _, entries = await project_journal(
                deps, symbol, projected + 1, published, older_than=older_than
            )
            if entries:
                log.warning("%s: applied %d journal entries the projector missed", symbol, entries)
            filled += entries
    return filled


async def _project(deps: Deps, batch: EventBatch) -> int:
    """`project_batch` of a batch known to follow the projected mark."""
    order_events = [e for e in batch.events if isinstance(e, OrderEvent)]
    if len(order_events) < len(batch.events):
        await _venue_alerts(deps, [e for e in batch.events if isinstance(e, VenueAlert)])
    applied = 0
    pushes: Pushes | None = None
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
        positions = (
            asyncio.ensure_future(deps.store.positions.apply_fills(fills)) if fills else None
        )
        facts: list[Awaitable[object]] = (
            [deps.store.executions.append_all(fills), positions] if positions else []
        )
        by_order: dict[str, list[OrderEvent]] = {}
        for event in order_events:
            by_order.setdefault(event.order_id, []).append(event)
        # All at once (one group commit on SQLite): each write is idempotent, so whatever a
        # crash leaves undone, the redelivery completes; the mark below comes only after.
        outcomes = await all_finished(
            [*facts, _project_orders(deps, instrument, batch, by_order, executions, positions)]
        )
        pushes = cast("Pushes", outcomes[-1])
        applied = pushes.applied
    shadows = shadow_events(batch.events)
    if shadows:  # shadow mode: after the orders' own events (see shadow_projection)
        await project_shadows(deps, shadows)
    # A high-water mark, not a completeness proof (batches of one instrument come in order,
    # so everything before it was applied or dead-lettered): the local run replays the
    # journal after it when its volatile bus lost the batches in flight. The accounts' feed
    # numbers are taken in the same round trip (one group commit on SQLite); the pushes
    # follow (a crash before them leaves a gap in the stream, which clients re-sync).
    mark = deps.store.journal.mark_projected(batch.symbol, batch.last_seq)
    if pushes is None:
        await mark
    else:
        await pushes.send(deps, mark)
    known = _marks.setdefault(deps.store.journal, {})
    known[batch.symbol] = max(known.get(batch.symbol, 0), batch.last_seq)
    return applied


async def _venue_alerts(deps: Deps, alerts: list[VenueAlert]) -> None:
    """What an external venue said that the instrument could not apply, for admins: in the
    audit log (GET /api/admin/audit) and live on the admin feed, never silently ignored
    (issue #18). An alert is recorded once however often its batch is projected."""
    for alert in alerts:
        detail = f"{alert.what}: {alert.report_kind} {alert.cl_ord_id} exec {alert.exec_id}"
        if alert.text:
            detail += f" ({alert.text})"
        await audit.record(
            deps,
            f"venue:{alert.venue}",
            f"venue.{alert.what.lower()}",
            "venue_order",
            alert.cl_ord_id or alert.order_id,
            None,
            {"symbol": alert.symbol, "seq": alert.seq},
            detail,
            at=alert.ts,
            key=f"{alert.symbol}:{alert.seq}",
        )


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


async def _project_orders(
    deps: Deps,
    instrument: Instrument,
    batch: EventBatch,
    by_order: Mapping[str, list[OrderEvent]],
    executions: Mapping[int, Execution],
    positions_written: Awaitable[object] | None = None,
) -> Pushes:
    """Apply each order's events of the batch: one read and one write for all the orders
    (an order another writer changed meanwhile goes again on its own, from a fresh read).
    Returns the pushes to send, each order's in its events' order (each fill with its
    account's position right after it)."""
    times = batch.processing_times()
    held = {
        order_id: [event for event in events if event.order_seq != 0]
        for order_id, events in by_order.items()
    }
    stored = await deps.store.orders.get_any_of([oid for oid, events in held.items() if events])
    pushed: dict[str, Pushed] = {}
    changed: list[Order] = []
    gives: list[LedgerChange | None] = []  # what each gives back of its account's limits
    for order_id, events in held.items():
        order = stored.get(order_id)
        if order is not None and events:
            was_open = limits.is_open(order)
            pushed[order_id] = _apply(order, events, instrument, deps, times)
            if pushed[order_id]:
                changed.append(order)
                gives.append(limits.release(order, was_open, instrument))
    written = await deps.store.orders.update_all(
        [(order, order.version) for order in changed], gives
    )
    again: list[str] = [oid for oid, events in held.items() if events and oid not in stored]
    for order, ok in zip(changed, written, strict=True):
        if ok:
            await remember(deps, order)
        else:
            again.append(order.order_id)
    stages.projected(order for order, ok in zip(changed, written, strict=True) if ok)
    if again:
        redone = await all_finished(
            [_project_alone(deps, instrument, held[oid], times) for oid in again]
        )
        pushed.update(zip(again, redone, strict=True))
    after = await positions_after(deps, instrument, executions, positions_written)
    return Pushes(instrument, by_order, pushed, executions, after)


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
        if isinstance(event, OrderFilled) and event.cum_qty == event.last_qty:
            metrics.order_first_fill((deps.clock() - order.created_at) / 1e9)
    return pushed


async def _project_alone(
    deps: Deps, instrument: Instrument, held: list[OrderEvent], times: Mapping[int, int]
) -> Pushed:
    """One order's events in a write of its own, read again after each version conflict
    (NotFound when the order does not exist)."""
    pushed: Pushed = []

    def apply(order: Order) -> LedgerChange | None:
        was_open = limits.is_open(order)
        pushed[:] = _apply(order, held, instrument, deps, times)
        if not pushed:
            raise DuplicateEvent("every event applied before")  # nothing to write
        return limits.release(order, was_open, instrument)

    with contextlib.suppress(DuplicateEvent):
        await change_order(deps, lambda: deps.store.orders.get_any(held[0].order_id), apply)
    return pushed
