"""Start-up reconciliation for the local run's volatile (in-memory) bus.

A `kill -9` loses every message in the in-memory bus: commands the matcher had not taken
yet, and event batches it had journaled (and marked published) that the projector had not
applied. Everything needed to redo both is durable in the store:

1. The journal holds every event; the projected mark says how far the order documents got.
   The journal tail after the mark is applied here directly through the projector (no
   bus), and the published mark is raised to match, so the matcher's own recovery does
   not publish those batches a second time (were it to, the projector's per-order
   sequence checks would absorb them).
2. Every order still waiting for the matcher has its command on record: a pending_new
   order's NewOrder is rebuilt from the order, a pending cancel or replace is stored on
   the order. They are all sent again now, with their first command ids: one that did
   reach the matcher is found in its journal and skipped.

Run it before the matcher starts, and only with the in-memory bus: Service Bus loses
nothing, and its sweep resends after a grace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.bootstrap import Container
from shared.services import projector, sweep

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    projected_batches: int  # journal entries applied to the order documents
    projected_events: int  # events of those entries that changed an order
    dispatched: int  # undispatched orders whose NewOrder was sent
    resent: int  # pending orders whose command(s) were sent again


async def _project_tail(container: Container, symbol: str) -> tuple[int, int]:
    journal = container.store.journal
    projected = await journal.projected_seq(symbol)
    end = await journal.last_seq(symbol)
    events = batches = 0
    try:
        events, batches = await projector.project_journal(container, symbol, projected + 1, end)
    except Exception:
        # Left to the matcher's re-publishing and the executions trigger (which retries
        # and then dead-letters) and the sweep: the local run must still start.
        log.exception("%s: the journal after seq %d cannot be applied", symbol, projected)
    last = await journal.projected_seq(symbol)
    if last > projected:
        await journal.mark_published(symbol, last)  # nothing left for the matcher to publish
        log.info(
            "%s: applied %d journaled batches the bus lost (seq %d..%d)",
            symbol,
            batches,
            projected + 1,
            last,
        )
    return batches, events


async def reconcile_volatile_bus(container: Container) -> ReconcileReport:
    """Apply the journal past the projected mark, then resend every pending command."""
    batches = events = 0
    for instrument in await container.store.instruments.list_instruments():
        b, e = await _project_tail(container, instrument.symbol)
        batches, events = batches + b, events + e
    outbox = await sweep.sweep_outbox(container, grace_ns=0)
    report = ReconcileReport(batches, events, outbox.dispatched, outbox.resent)
    level = logging.WARNING if batches or outbox.dispatched or outbox.resent else logging.INFO
    log.log(
        level,
        "volatile bus reconciled: %d journaled batches applied (%d order changes), %d orders"
        " dispatched, %d pending orders' commands sent again",
        report.projected_batches,
        report.projected_events,
        report.dispatched,
        report.resent,
    )
    return report
