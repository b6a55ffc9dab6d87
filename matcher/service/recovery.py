"""Rebuild an instrument from its latest snapshot plus the journal tail, and re-publish.

Every journaled command after the snapshot runs through the venue again and must produce
exactly the events the journal holds (else ReplayDivergence). Entries journaled but not yet
published (past the published mark) are sent again to `executions`; their message ids are
the same as the first time, so duplicate detection and idempotent consumers absorb them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import orjson

from matcher.service.errors import ReplayDivergence
from matcher.service.outbox import Outbox
from matcher.service.venue import Venue, new_venue, restore_venue, venue_snapshot
from shared.domain.commands import command_from_dict
from shared.domain.events import Event
from shared.ports.snapshots import SnapshotStore
from shared.ports.store_instruments import InstrumentRepository
from shared.ports.store_journal import JournalEntry, JournalRepository

log = logging.getLogger(__name__)

REPUBLISH_CHUNK = 200


def encode_snapshot(symbol: str, venue: Venue) -> bytes:
    return orjson.dumps({"symbol": symbol, "seq": venue.seq, "venue": venue_snapshot(venue)})


def decode_snapshot(symbol: str, seq: int, data: bytes) -> Venue:
    doc = orjson.loads(data)
    venue = restore_venue(doc["venue"])
    if doc.get("symbol") != symbol or venue.seq != seq:
        raise ReplayDivergence(f"snapshot {symbol}@{seq} holds {doc.get('symbol')}@{venue.seq}")
    return venue


@dataclass(slots=True)
class Recovered:
    """An instrument ready to take commands."""

    venue: Venue
    snapshot_seq: int  # seq of the snapshot the venue was built from; -1: none existed
    replayed: int = 0  # journal entries re-run through the venue
    republished: int = 0  # journal entries sent to `executions` again
    command_ids: set[str] = field(default_factory=set)  # commands replayed


async def load_venue(
    symbol: str, snapshots: SnapshotStore, instruments: InstrumentRepository
) -> tuple[Venue, int | None]:
    """The venue of the latest snapshot, or a fresh one (None: no snapshot existed)."""
    latest = await snapshots.latest(symbol)
    if latest is not None:
        seq, data = latest
        return decode_snapshot(symbol, seq, data), seq
    return await fresh_venue(symbol, instruments), None


async def fresh_venue(symbol: str, instruments: InstrumentRepository) -> Venue:
    """An empty book with the instrument's fees and reference price."""
    instrument = await instruments.get(symbol)
    if instrument is None:
        log.warning("%s: no instrument reference data; starting a book with zero fees", symbol)
        return new_venue(symbol)
    return new_venue(
        symbol,
        instrument.maker_fee_cbps,
        instrument.taker_fee_cbps,
        instrument.reference_price or 0,
    )


def replay(venue: Venue, entry: JournalEntry) -> list[Event]:
    """Re-run one journaled command; its events must equal the journaled ones."""
    if entry.first_seq != venue.seq + 1:
        raise ReplayDivergence(
            f"{entry.symbol}: journal entry {entry.command_id} starts at {entry.first_seq},"
            f" the venue is at {venue.seq}"
        )
    out: list[Event] = []
    venue.handle(command_from_dict(entry.command), out)
    if [e.to_dict() for e in out] != entry.events:
        raise ReplayDivergence(
            f"{entry.symbol}: replaying {entry.command_id} (seq {entry.first_seq}) gave other"
            " events than the journal holds"
        )
    return out


async def recover(
    symbol: str,
    journal: JournalRepository,
    snapshots: SnapshotStore,
    instruments: InstrumentRepository,
    outbox: Outbox,
    keepalive: Callable[[], Awaitable[None]] | None = None,
    parked: tuple[Venue, int] | None = None,
) -> Recovered:
    """Snapshot + journal tail -> venue; re-publish what is journaled but unpublished.
    `keepalive` is awaited every REPUBLISH_CHUNK entries (the session lock must outlive a
    long replay). `parked`: a venue this process kept at a journaled seq, and the seq of
    its latest snapshot: the replay starts from it instead of the snapshot."""
    journaled = await journal.last_seq(symbol)
    venue: Venue
    snapshot_seq: int | None
    if parked is not None and parked[0].seq <= journaled:
        venue, snapshot_seq = parked[0], parked[1]
    else:
        venue, snapshot_seq = await load_venue(symbol, snapshots, instruments)
    if snapshot_seq is not None and snapshot_seq > journaled:
        # The record is the journal; a snapshot is a shortcut through it and is only ever
        # taken of journaled state. One past the journal's end belongs to another journal
        # (a database restored from an older backup, or replaced): its orders are not in
        # this store, so the book is rebuilt from this journal alone.
        log.error(
            "%s: snapshot at seq %d is past the journal's end (%d); ignoring it and"
            " rebuilding the book from the journal",
            symbol,
            snapshot_seq,
            journaled,
        )
        venue, snapshot_seq = await fresh_venue(symbol, instruments), None
    published = outbox.published_seq
    result = Recovered(venue, snapshot_seq if snapshot_seq is not None else -1)
    pending: list[JournalEntry] = []

    async def send_pending() -> None:
        if pending:
            await outbox.publish_entries([(e, None) for e in pending], pending[-1].last_seq)
            result.republished += len(pending)
            pending.clear()

    start = min(published, venue.seq) + 1
    read = 0
    async for entry in journal.read_from(symbol, start):
        read += 1
        if keepalive is not None and read % REPUBLISH_CHUNK == 0:
            await keepalive()
        if entry.last_seq > venue.seq:
            replay(venue, entry)
            result.replayed += 1
            result.command_ids.add(entry.command_id)
        elif entry.first_seq <= venue.seq < entry.last_seq:
            raise ReplayDivergence(f"{symbol}: snapshot at {venue.seq} splits a journal entry")
        if entry.last_seq > published:
            pending.append(entry)
            if len(pending) >= REPUBLISH_CHUNK:
                await send_pending()
    await send_pending()
    return result
