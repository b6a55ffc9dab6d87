"""Contract: an order's audit trail and activity record, on every store adapter."""

from __future__ import annotations

import dataclasses

from shared.ports.store_order_events import OrderActivity, StoredEvent


def stored(order_id: str, seq: int, order_seq: int, account_id: str = "acc-1") -> StoredEvent:
    event = {"kind": "order_filled", "symbol": "AAPL", "seq": seq, "ts": 5, "order_seq": order_seq}
    return StoredEvent(account_id, order_id, "AAPL", seq, order_seq, 1_000 + seq, event)


def activity(order_seq: int, **times: int) -> OrderActivity:
    return OrderActivity(
        order_id="o-1",
        account_id="acc-1",
        symbol="AAPL",
        side="buy",
        order_type="limit",
        created_at=100,
        quantity=10,
        limit_price=15_000,
        order_seq=order_seq,
        status="partially_filled" if order_seq < 3 else "filled",
        filled_quantity=order_seq * 3,
        filled_notional=order_seq * 45_000,
        fees=order_seq,
        **times,
    )


async def test_an_orders_events_read_back_in_sequence_and_are_stored_once(store):
    first = [stored("o-1", 7, 1), stored("o-1", 9, 2), stored("o-2", 8, 1)]
    await store.order_events.record(first, [])
    await store.order_events.record([stored("o-1", 9, 2), stored("o-1", 12, 3)], [])

    events = await store.order_events.list_by_order("acc-1", "o-1")

    assert [(e.seq, e.order_seq, e.processed_at) for e in events] == [
        (7, 1, 1_007),
        (9, 2, 1_009),
        (12, 3, 1_012),
    ]
    assert events[0] == first[0]  # the event itself, as stored
    assert await store.order_events.list_by_order("acc-2", "o-1") == []


async def test_activity_keeps_the_furthest_state_and_merges_its_times(store):
    await store.order_events.record([], [activity(2, first_fill_at=50)])
    # A redelivery of an earlier state: its state does not win, its earlier time does.
    await store.order_events.record([], [activity(1, accepted_at=20, first_fill_at=40)])
    after_two = await store.order_events.get_activity("acc-1", "o-1")
    await store.order_events.record([], [activity(3, completed_at=90)])
    final = await store.order_events.get_activity("acc-1", "o-1")

    assert after_two == activity(2, accepted_at=20, first_fill_at=40)
    assert final == activity(3, accepted_at=20, first_fill_at=40, completed_at=90)
    assert await store.order_events.get_activity("acc-2", "o-1") is None
    # The same record again changes nothing.
    await store.order_events.record([], [activity(3, completed_at=90)])
    assert await store.order_events.get_activity("acc-1", "o-1") == final


async def test_activity_pages_newest_first_within_a_time_window(store):
    rows = [
        dataclasses.replace(activity(1), order_id=f"o-{t}", created_at=t, symbol=s)
        for t, s in ((10, "AAPL"), (20, "MSFT"), (30, "AAPL"), (40, "AAPL"))
    ]
    await store.order_events.record([], rows)

    first = await store.order_events.list_activity("acc-1", limit=3)
    second = await store.order_events.list_activity("acc-1", limit=3, cursor=first.next_cursor)
    window = await store.order_events.list_activity("acc-1", symbol="AAPL", since=20, until=40)

    assert [a.created_at for a in first.items + second.items] == [40, 30, 20, 10]
    assert second.next_cursor is None
    assert [a.order_id for a in window.items] == ["o-30"]
    assert (await store.order_events.list_activity("acc-2")).items == []
