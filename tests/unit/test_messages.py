"""Event batches on the bus carry each journal entry's processing time to the projector."""

from __future__ import annotations

from matcher.service.outbox import batch_messages, journal_entry
from shared.domain.events import Event, TradingStateChanged
from shared.messages import EventBatch, decode_event_batch, event_batch_message


def test_a_merged_batch_carries_the_processing_time_of_each_entry():
    first: list[Event] = [
        TradingStateChanged("AAA", 1, 10, "halted"),
        TradingStateChanged("AAA", 2, 10, "active"),
    ]
    second: list[Event] = [TradingStateChanged("AAA", 3, 20, "halted")]
    entries = [
        (journal_entry("AAA", {"command_id": "c1"}, first, 1_000), first),
        (journal_entry("AAA", {"command_id": "c2"}, second, 2_000), second),
    ]

    (message,) = batch_messages(entries)
    batch = decode_event_batch(message.body)

    assert batch.processed == ((1, 1_000), (3, 2_000))
    assert [batch.processed_at(seq) for seq in (1, 2, 3)] == [1_000, 1_000, 2_000]


def test_a_batch_without_processing_times_reads_as_unknown():
    event = TradingStateChanged("AAA", 7, 10, "halted")
    batch = decode_event_batch(event_batch_message(EventBatch("AAA", "c", 7, 7, (event,))).body)

    assert batch.processed == () and batch.processed_at(7) == 0


def test_every_event_of_a_batch_gets_the_time_of_its_entry_in_one_pass():
    events = tuple(TradingStateChanged("AAA", seq, 10, "halted") for seq in range(5, 10))
    batch = EventBatch("AAA", "c", 5, 9, events, ((5, 100), (7, 200), (9, 300)))

    assert batch.processing_times() == {5: 100, 6: 100, 7: 200, 8: 200, 9: 300}
    assert batch.processing_times() == {s: batch.processed_at(s) for s in range(5, 10)}
