"""Feed sequencing, book conflation and the publisher on the embedded local hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from shared.adapters.signalr_local import LocalNotifier
from shared.adapters.sqlite.store import open_sqlite_store
from shared.feeds import BookConflater, FeedPublisher, FeedSequencer, book_group, trades_group
from shared.ports.notifier import UnknownConnectionError
from shared.ports.store_feeds import FeedPosition
from shared.signalr_hub import HubConnection, LocalHub
from shared.signalr_hub.protocol import RS

KEY = "unit-test-access-key-0123456789abcdef"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_stream_counts_from_one_without_gaps() -> None:
    seq = FeedSequencer()
    assert [seq.next("account:A") for _ in range(3)] == [1, 2, 3]
    assert seq.next("account:B") == 1
    assert seq.next("account:A") == 4
    assert seq.last("trades:X") == 0


def test_a_restored_stream_continues_after_the_restored_number_and_never_goes_back() -> None:
    seq = FeedSequencer({"trades:X": 41})
    assert seq.next("trades:X") == 42
    seq.restore("trades:X", 10)
    assert seq.next("trades:X") == 43
    with pytest.raises(ValueError):
        seq.restore("trades:X", -1)


def test_conflater_sends_the_first_book_and_holds_the_rest_within_the_interval() -> None:
    clock = FakeClock()
    conflater: BookConflater[str] = BookConflater(max_per_second=4, clock=clock)
    assert conflater.offer("X", "b1") == "b1"
    clock.now += 0.1
    assert conflater.offer("X", "b2") is None
    assert conflater.offer("X", "b3") is None
    assert conflater.due() == []
    assert conflater.next_due_in() == pytest.approx(0.15)
    clock.now += 0.15
    assert conflater.due() == [("X", "b3")]  # only the latest of the held books
    assert conflater.next_due_in() is None


def test_conflater_limits_each_instrument_separately() -> None:
    clock = FakeClock()
    conflater: BookConflater[str] = BookConflater(max_per_second=1, clock=clock)
    assert conflater.offer("X", "x1") == "x1"
    assert conflater.offer("Y", "y1") == "y1"
    assert conflater.offer("X", "x2") is None
    clock.now += 1.0
    assert conflater.offer("X", "x3") == "x3"  # a newer book goes out and replaces x2
    assert conflater.due() == []


def test_conflater_never_exceeds_its_rate_over_a_burst() -> None:
    clock = FakeClock()
    conflater: BookConflater[int] = BookConflater(max_per_second=10, clock=clock)
    sent: list[int] = []
    for i in range(1000):  # 1000 updates over 2 seconds
        clock.now += 0.002
        if conflater.offer("X", i) is not None:
            sent.append(i)
        sent.extend(book for _, book in conflater.due())
    assert 18 <= len(sent) <= 21
    assert sent == sorted(sent)


def _connect(hub: LocalHub, user: str) -> HubConnection:
    return hub.connect("oms", hub.new_connection_id(), user)


def _drain(conn: HubConnection) -> list[dict[str, object]]:
    frames: list[str] = []
    while conn._buffer:
        frames.append(conn._buffer.popleft())
    return [json.loads(r) for f in frames for r in f.split(RS) if r]


async def test_account_messages_share_one_contiguous_stream_and_reach_only_their_account() -> None:
    hub = LocalHub(KEY)
    alice, bob = _connect(hub, "alice"), _connect(hub, "bob")
    feeds = FeedPublisher(LocalNotifier(hub, "http://127.0.0.1:1/signalr"))
    await feeds.order_updated("alice", {"order_id": "o1", "status": "NEW"})
    await feeds.execution_reported("alice", {"order_id": "o1", "last_qty": "5"})
    await feeds.order_updated("alice", {"order_id": "o1", "status": "FILLED"})
    await feeds.order_updated("bob", {"order_id": "o2", "status": "NEW"})
    got = _drain(alice)
    assert [m["target"] for m in got] == ["orderUpdated", "executionReported", "orderUpdated"]
    envelopes = [m["arguments"][0] for m in got]  # type: ignore[index]
    assert [e["seq"] for e in envelopes] == [1, 2, 3]
    assert {e["stream"] for e in envelopes} == {"account:alice"}
    assert {e["epoch"] for e in envelopes} == {feeds.epoch}
    assert [m["arguments"][0]["data"]["order_id"] for m in _drain(bob)] == ["o2"]  # type: ignore[index]


async def test_an_account_without_connections_is_not_listened_to_until_one_connects() -> None:
    hub = LocalHub(KEY)
    feeds = FeedPublisher(LocalNotifier(hub, "http://127.0.0.1:1/signalr"))
    assert not feeds.account_listened("alice")
    await feeds.pass_over("alice", 2)  # two messages nobody could receive

    alice = _connect(hub, "alice")
    assert feeds.account_listened("alice") and not feeds.account_listened("bob")
    await feeds.order_updated("alice", {"order_id": "o1"})

    assert [m["arguments"][0]["seq"] for m in _drain(alice)] == [3]  # type: ignore[index]


async def test_instrument_feeds_reach_subscribed_connections_with_their_own_sequences() -> None:
    hub = LocalHub(KEY)
    watcher, other = _connect(hub, "alice"), _connect(hub, "bob")
    notifier = LocalNotifier(hub, "http://127.0.0.1:1/signalr")
    await notifier.add_connection_to_group(watcher.connection_id, trades_group("XYZ"))
    await notifier.add_connection_to_group(watcher.connection_id, book_group("XYZ"))
    feeds = FeedPublisher(notifier, books_per_second=1000)
    await feeds.trade("XYZ", {"px": "10.00"})
    await feeds.trade("XYZ", {"px": "10.01"})
    await feeds.book("XYZ", {"bids": [], "asks": []})
    got = [(m["target"], m["arguments"][0]["seq"]) for m in _drain(watcher)]  # type: ignore[index]
    assert got == [("trade", 1), ("trade", 2), ("book", 1)]
    assert _drain(other) == []
    with pytest.raises(UnknownConnectionError):
        await notifier.add_connection_to_group("no-such-connection", trades_group("XYZ"))


async def test_held_back_books_go_out_on_flush_with_the_next_sequence_number() -> None:
    clock = FakeClock()
    hub = LocalHub(KEY)
    watcher = _connect(hub, "alice")
    notifier = LocalNotifier(hub, "http://127.0.0.1:1/signalr")
    await notifier.add_user_to_group("alice", book_group("XYZ"))
    feeds = FeedPublisher(notifier, conflater=BookConflater(2, clock=clock))
    assert await feeds.book("XYZ", {"v": 1}) == 1
    assert await feeds.book("XYZ", {"v": 2}) is None
    assert await feeds.book("XYZ", {"v": 3}) is None
    clock.now += 0.5
    assert await feeds.flush_books() == 1
    got = [m["arguments"][0] for m in _drain(watcher)]  # type: ignore[index]
    assert [(e["seq"], e["data"]["v"]) for e in got] == [(1, 1), (2, 3)]


async def test_without_a_store_a_new_publisher_starts_the_account_stream_under_a_new_epoch() -> (
    None
):
    hub = LocalHub(KEY)
    alice = _connect(hub, "alice")
    notifier = LocalNotifier(hub, "http://127.0.0.1:1/signalr")
    before, after = FeedPublisher(notifier), FeedPublisher(notifier)  # e.g. a process restart
    await before.order_updated("alice", {"order_id": "o1"})
    await before.order_updated("alice", {"order_id": "o1"})
    await after.order_updated("alice", {"order_id": "o1"})
    got = [m["arguments"][0] for m in _drain(alice)]  # type: ignore[index]
    assert set(got[0]) == {"stream", "epoch", "seq", "data"}
    # seq 1 again: without the epoch the client could not tell a restart from a replay
    assert [(e["epoch"], e["seq"]) for e in got] == [
        (before.epoch, 1),
        (before.epoch, 2),
        (after.epoch, 1),
    ]
    assert before.epoch != after.epoch
    assert await before.position("account:alice") == FeedPosition(before.epoch, 2)
    assert FeedPublisher(notifier, epoch="fixed").epoch == "fixed"


async def test_an_account_stream_kept_in_the_store_continues_across_restarts_and_replicas(
    tmp_path: Path,
) -> None:
    hub = LocalHub(KEY)
    alice = _connect(hub, "alice")
    notifier = LocalNotifier(hub, "http://127.0.0.1:1/signalr")
    store = await open_sqlite_store(tmp_path / "oms.db")
    try:
        first = FeedPublisher(notifier, streams=store.feeds)
        expected = await first.position("account:alice")  # what a client reads first
        assert expected.seq == 0
        await first.order_updated("alice", {"order_id": "o1"})
        await first.pass_over("alice")  # one nobody could receive (still counted)
        restarted = FeedPublisher(notifier, streams=store.feeds)
        replica = FeedPublisher(notifier, streams=store.feeds)
        await restarted.order_updated("alice", {"order_id": "o1"})
        blocks = await asyncio.gather(  # two instances push batches at once
            restarted.account_numbers("alice", 3), replica.account_numbers("alice", 3)
        )
        for block in blocks:
            for _ in range(3):
                await replica.order_updated("alice", {"order_id": "o2"}, block)

        got = [m["arguments"][0] for m in _drain(alice)]  # type: ignore[index]
        assert {e["epoch"] for e in got} == {expected.epoch}  # one epoch, whoever sent
        assert [e["seq"] for e in got[:2]] == [1, 3]  # 2 was passed over: a visible gap
        assert sorted(e["seq"] for e in got[2:]) == [4, 5, 6, 7, 8, 9]  # none twice
        assert await replica.position("account:alice") == FeedPosition(expected.epoch, 9)
        assert restarted.epoch != replica.epoch  # instrument streams stay per process
    finally:
        await store.close()


async def test_an_unheard_stretch_of_a_stored_stream_costs_one_number_and_still_shows_a_gap(
    tmp_path: Path,
) -> None:
    hub = LocalHub(KEY)
    notifier = LocalNotifier(hub, "http://127.0.0.1:1/signalr")
    store = await open_sqlite_store(tmp_path / "oms.db")
    try:
        feeds = FeedPublisher(notifier, streams=store.feeds)
        alice = _connect(hub, "alice")
        await feeds.order_updated("alice", {"order_id": "o1"})  # seq 1, heard
        assert [m["arguments"][0]["seq"] for m in _drain(alice)] == [1]  # type: ignore[index]
        for _ in range(3):  # three batches while she is away: one number for the stretch
            numbers = await feeds.batch_numbers([("alice", 5, False)])
            numbers["alice"].skip(5)
        assert (await store.feeds.position("account:alice")).seq == 2  # type: ignore[union-attr]
        seen = await feeds.position("account:alice")  # a client reads where it stands...
        await feeds.batch_numbers([("alice", 5, False)])  # ...and is away again: a gap again
        assert (await feeds.position("account:alice")).seq == seen.seq + 1
        heard = await feeds.batch_numbers([("alice", 2, True)])
        await feeds.order_updated("alice", {"order_id": "o1"}, heard["alice"])
        got = [m["arguments"][0]["seq"] for m in _drain(alice)]  # type: ignore[index]
        assert got == [seen.seq + 2]  # after the gap
    finally:
        await store.close()
