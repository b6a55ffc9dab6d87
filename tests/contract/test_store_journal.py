"""Contract: the matcher's journal, on every store adapter."""

from __future__ import annotations

import dataclasses

import pytest

from shared.domain.commands import CancelAll, command_from_dict
from shared.domain.events import TradingStateChanged, event_from_dict
from shared.ports.store_errors import JournalConflict
from shared.ports.store_journal import JournalEntry


def entry(command_id: str, first_seq: int, n_events: int = 1, symbol: str = "AAPL"):
    """A journal entry of a real command with `n_events` real events."""
    command = CancelAll(command_id, first_seq, symbol, "acc-1", "test").to_dict()
    events = [
        TradingStateChanged(symbol, seq, first_seq, "halted").to_dict()
        for seq in range(first_seq, first_seq + n_events)
    ]
    return JournalEntry(symbol, command_id, first_seq, first_seq + n_events - 1, command, events)


async def read_all(journal, symbol: str, seq: int = 1) -> list[JournalEntry]:
    return [e async for e in journal.read_from(symbol, seq)]


async def test_entries_read_back_in_sequence_order(store):
    batch = [entry("c1", 1, 2), entry("c2", 3), entry("c3", 4, 3)]

    assert await store.journal.append(batch) == batch

    assert await read_all(store.journal, "AAPL") == batch
    assert await read_all(store.journal, "AAPL", 4) == batch[2:]
    assert await read_all(store.journal, "AAPL", 5) == batch[2:]
    assert await read_all(store.journal, "AAPL", 7) == []
    assert await store.journal.last_seq("AAPL") == 6
    assert await store.journal.last_seq("MSFT") == 0


async def test_appending_the_same_batch_again_changes_nothing(store):
    batch = [entry("c1", 1), entry("c2", 2)]
    await store.journal.append(batch)

    assert await store.journal.append(batch) == batch
    assert await store.journal.append([entry("c2", 2), entry("c3", 3)]) == [
        entry("c2", 2),
        entry("c3", 3),
    ]

    assert [e.command_id for e in await read_all(store.journal, "AAPL")] == ["c1", "c2", "c3"]


async def test_a_retried_command_returns_what_was_journaled_first(store):
    first = entry("c1", 1, 2)
    await store.journal.append([first])

    assert await store.journal.append([entry("c1", 1, 1)]) == [first]
    # again under sequences past the end (a matcher that lost its memory of it): the same
    assert await store.journal.append([entry("c1", 3, 3)]) == [first]
    assert [e.command_id for e in await read_all(store.journal, "AAPL")] == ["c1"]


async def test_a_different_command_on_taken_sequences_is_a_conflict(store):
    await store.journal.append([entry("c1", 1, 3)])

    with pytest.raises(JournalConflict):
        await store.journal.append([entry("other", 3)])
    with pytest.raises(JournalConflict):
        await store.journal.append([entry("other", 1)])

    assert [e.command_id for e in await read_all(store.journal, "AAPL")] == ["c1"]


async def test_a_gap_is_a_conflict_and_keeps_the_entries_before_it(store):
    with pytest.raises(JournalConflict):
        await store.journal.append([entry("c1", 1), entry("c2", 2), entry("c9", 9)])

    assert [e.command_id for e in await read_all(store.journal, "AAPL")] == ["c1", "c2"]


async def test_instruments_have_separate_sequences(store):
    await store.journal.append([entry("a1", 1, symbol="AAPL")])
    await store.journal.append([entry("m1", 1, symbol="MSFT")])

    assert await store.journal.find_by_command("MSFT", "m1") == entry("m1", 1, symbol="MSFT")
    assert await store.journal.find_by_command("MSFT", "a1") is None


async def test_a_batch_mixing_instruments_or_without_events_is_refused(store):
    with pytest.raises(ValueError):
        await store.journal.append([entry("a1", 1), entry("m1", 2, symbol="MSFT")])
    with pytest.raises(ValueError):
        await store.journal.append([entry("a1", 1, n_events=0)])


async def test_journaled_dicts_rebuild_the_domain_objects(store):
    stored = entry("c1", 1)
    await store.journal.append([stored])

    (read,) = await read_all(store.journal, "AAPL")

    assert command_from_dict(read.command) == command_from_dict(stored.command)
    assert event_from_dict(read.events[0]) == TradingStateChanged("AAPL", 1, 1, "halted")


async def test_a_long_tail_reads_across_pages(store):
    entries = [entry(f"c{seq}", seq) for seq in range(1, 1_201)]
    await store.journal.append(entries)

    tail = await read_all(store.journal, "AAPL", 100)

    assert [e.first_seq for e in tail] == list(range(100, 1_201))


async def test_the_published_mark_never_moves_backwards(store):
    assert await store.journal.published_seq("AAPL") == 0

    await store.journal.mark_published("AAPL", 5)
    await store.journal.mark_published("AAPL", 3)

    assert await store.journal.published_seq("AAPL") == 5
    assert await store.journal.published_seq("MSFT") == 0


async def test_the_projected_mark_never_moves_backwards_and_is_apart_from_published(store):
    assert await store.journal.projected_seq("AAPL") == 0

    await store.journal.mark_projected("AAPL", 7)
    await store.journal.mark_projected("AAPL", 4)
    await store.journal.mark_published("AAPL", 2)

    assert await store.journal.projected_seq("AAPL") == 7
    assert await store.journal.published_seq("AAPL") == 2
    assert await store.journal.projected_seq("MSFT") == 0


async def test_a_projected_mark_set_first_leaves_the_published_mark_at_zero(store):
    await store.journal.mark_projected("AAPL", 3)

    assert await store.journal.published_seq("AAPL") == 0

    await store.journal.mark_published("AAPL", 9)
    assert await store.journal.projected_seq("AAPL") == 3


async def test_an_entry_keeps_the_time_the_matcher_ran_its_command(store):
    timed = dataclasses.replace(entry("c1", 1, 2), processed_at=1_700_000_000_123_456_789)
    untimed = entry("c2", 3)

    await store.journal.append([timed, untimed])

    stored = await read_all(store.journal, "AAPL")
    assert [e.processed_at for e in stored] == [1_700_000_000_123_456_789, 0]
    found = await store.journal.find_by_command("AAPL", "c1")
    assert found is not None and found.processed_at == 1_700_000_000_123_456_789
    # A retried append of the same command (its clock said something else) is the same
    # entry, and what comes back is the first one, with the first time.
    again = dataclasses.replace(timed, processed_at=5)
    assert await store.journal.append([again]) == [timed]
    assert (await store.journal.append([again]))[0].processed_at == timed.processed_at


async def test_the_entries_holding_some_events_are_found_each_once(store):
    await store.journal.append([entry("c1", 1, 2), entry("c2", 3), entry("c3", 4, 3)])

    found = await store.journal.entries_at("AAPL", [5, 2, 1, 4, 9])

    assert [e.command_id for e in found] == ["c1", "c3"]
    assert await store.journal.entries_at("AAPL", []) == []
    assert await store.journal.entries_at("MSFT", [1]) == []


async def test_a_groups_command_and_the_newer_events_come_back_equal(store):
    from shared.domain.commands import ConfigureInstrument, NewOrder, NewOrderGroup
    from shared.domain.events import (
        InstrumentConfigured,
        OrderAccepted,
        OrderRestated,
        TrailingStopMoved,
    )

    def leg(
        n: int,
        order_id: str,
        leg: str,
        side: str = "sell",
        order_type: str = "limit",
        price: int = 0,
        trail_cbps: int = 0,
        display_qty: int = 0,
    ) -> NewOrder:
        return NewOrder(
            f"g.{n}",
            5,
            "AAPL",
            order_id,
            "acc-1",
            side,
            order_type,
            "gtc",
            10,
            price,
            display_qty=display_qty,
            trail_cbps=trail_cbps,
            order_class="bracket",
            leg=leg,
            parent_order_id="" if leg == "entry" else "e",
        )

    group = NewOrderGroup(
        "g",
        5,
        "AAPL",
        "bracket",
        (
            leg(1, "e", "entry", side="buy", price=15_000, display_qty=2),
            leg(2, "e-tp", "take_profit", price=15_500),
            leg(3, "e-sl", "stop_loss", order_type="trailing_stop", trail_cbps=12_500),
        ),
    )
    events = [
        OrderAccepted("AAPL", 1, 5, "e", "acc-1", 1, "new", "buy", "limit", 10, 15_000, 0),
        OrderAccepted(
            "AAPL", 2, 5, "e-tp", "acc-1", 1, "held", "sell", "limit", 10, 15_500, 0, 0, 10
        ),
        OrderRestated("AAPL", 3, 5, "e-tp", "acc-1", 2, "new", 10, 4, 0, 6, 0, "LEG_RELEASED"),
        TrailingStopMoved("AAPL", 4, 5, "e-sl", "acc-1", 2, "held", 14_900, 15_100),
    ]
    entries = [
        JournalEntry("AAPL", "g", 1, 4, group.to_dict(), [e.to_dict() for e in events]),
        JournalEntry(
            "AAPL",
            "fees",
            5,
            5,
            ConfigureInstrument("fees", 6, "AAPL", 10, 25).to_dict(),
            [InstrumentConfigured("AAPL", 5, 6, 10, 25).to_dict()],
        ),
    ]

    await store.journal.append(entries)

    back = await read_all(store.journal, "AAPL")
    assert back == entries
    assert command_from_dict(back[0].command) == group
    assert [event_from_dict(e) for e in back[0].events] == events
