"""The executions projector: redeliveries change nothing, early events wait for the missing
ones, and answers about orders the matcher no longer holds are reported, not applied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from shared.domain.events import VenueAlert
from shared.domain.order import EventOutOfOrder
from shared.messages import EventBatch
from shared.ports.store_audit import AuditFilter
from shared.ports.store_journal import JournalEntry
from shared.services import amending, projector, sweep
from shared.services.placing import place_order
from shared.services.tickets import OrderRequest
from tests.support.oms import Oms, make_oms


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    await system.add_instrument("ABC", "0.01", "1", reference_price="100")
    yield system
    await system.container.store.close()


def limit(side: Side, quantity: str, price: str = "100") -> OrderRequest:
    return OrderRequest("ABC", side, OrderType.LIMIT, quantity, TimeInForce.GTC, price)


async def trade(oms: Oms) -> tuple[str, str, list[EventBatch]]:
    """Alice rests 10, bob takes 4; returns their account ids and the matcher's batches."""
    alice_id, _ = await oms.add_account("alice")
    bob_id, _ = await oms.add_account("bob")
    store = oms.container.store
    alice = await store.accounts.get(alice_id)
    bob = await store.accounts.get(bob_id)
    assert alice and bob
    await place_order(oms.container, alice, limit(Side.SELL, "10"))
    await place_order(oms.container, bob, limit(Side.BUY, "4"))
    await oms.pump.match()
    return alice_id, bob_id, oms.pump.batches


async def test_a_redelivered_batch_changes_nothing(oms: Oms):
    alice_id, bob_id, batches = await trade(oms)
    for batch in batches:
        await projector.project_batch(oms.container, batch)
    store = oms.container.store
    orders = (await store.orders.list_orders(alice_id)).items
    version = orders[0].version
    pushes = len(oms.notifier.sent)

    for batch in batches:
        assert await projector.project_batch(oms.container, batch) == 0

    again = (await store.orders.list_orders(alice_id)).items[0]
    assert (again.version, again.cum_qty, again.leaves_qty) == (version, 4, 6)
    assert len((await store.executions.list_by_account(alice_id)).items) == 1
    position = await store.positions.get(bob_id, "ABC")
    assert position is not None and position.net_quantity == 4
    assert len(oms.notifier.sent) == pushes  # nothing pushed twice


async def test_pushes_nobody_could_receive_are_skipped_but_numbered(oms: Oms):
    alice_id, bob_id, batches = await trade(oms)
    oms.notifier.offline.add(alice_id)

    for batch in batches:
        await projector.project_batch(oms.container, batch)

    assert oms.notifier.envelopes(alice_id) == []
    assert oms.notifier.envelopes(bob_id)  # bob is connected: his pushes went out
    resting = (await oms.container.store.orders.list_orders(alice_id)).items[0]
    assert (resting.cum_qty, resting.leaves_qty) == (4, 6)
    # Her stream took a number for what she missed (one for the stretch: the stream is
    # kept in the store, so one write shows the gap), so her next push, once she is
    # back, shows the gap and she re-syncs over REST.
    position = await oms.container.feeds.position(f"account:{alice_id}")
    assert position.seq == 1
    oms.notifier.offline.clear()
    await oms.container.feeds.order_updated(alice_id, {"order_id": resting.order_id})
    assert [e["seq"] for e in oms.notifier.envelopes(alice_id)] == [2]


async def test_an_early_event_waits_for_the_missing_one(oms: Oms):
    # The missing events are not in the journal either (with them there, the early batch
    # applies them first: see the dead-lettered batch's test below).
    oms.pump.journal = None
    alice_id, _, batches = await trade(oms)
    accepted_alice, match = batches[0], batches[1]
    with pytest.raises(EventOutOfOrder):
        await projector.project_batch(oms.container, match)  # alice's fill before her accept
    await projector.project_batch(oms.container, accepted_alice)
    await projector.project_batch(oms.container, match)
    order = (await oms.container.store.orders.list_orders(alice_id)).items[0]
    assert (order.status.value, order.cum_qty) == ("partially_filled", 4)


async def test_answers_about_unknown_orders_are_reported_not_applied(oms: Oms):
    from shared.domain.events import CancelRejected

    alice_id, _, batches = await trade(oms)
    for batch in batches:
        await projector.project_batch(oms.container, batch)
    order = (await oms.container.store.orders.list_orders(alice_id)).items[0]
    rejected = CancelRejected("ABC", 99, 1, order.order_id, alice_id, 0, "", "UNKNOWN_ORDER")
    batch = EventBatch("ABC", "c", 99, 99, (rejected,))
    assert await projector.project_batch(oms.container, batch) == 0
    stored = await oms.container.store.orders.get(alice_id, order.order_id)
    assert stored is not None and stored.version == order.version
    last = oms.notifier.envelopes(alice_id)[-1]["data"]
    assert (last["event"], last["event_reason"]) == ("cancel_rejected", "UNKNOWN_ORDER")


async def test_every_order_conserves_quantity_and_both_sides_balance(oms: Oms):
    alice_id, bob_id, _ = await trade(oms)
    await oms.settle()
    store = oms.container.store
    for account_id in (alice_id, bob_id):
        for order in (await store.orders.list_orders(account_id)).items:
            assert order.cum_qty + order.leaves_qty + order.canceled_qty == (order.quantity)
    bought = await store.positions.get(bob_id, "ABC")
    sold = await store.positions.get(alice_id, "ABC")
    assert bought and sold and bought.bought_quantity == sold.sold_quantity == 4


async def test_the_projected_mark_follows_applied_batches_and_never_goes_back(oms: Oms):
    _, _, batches = await trade(oms)
    journal = oms.container.store.journal
    assert await journal.projected_seq("ABC") == 0

    for batch in batches:
        await projector.project_batch(oms.container, batch)
    assert await journal.projected_seq("ABC") == batches[-1].last_seq

    await projector.project_batch(oms.container, batches[0])  # a late redelivery
    assert await journal.projected_seq("ABC") == batches[-1].last_seq


async def test_a_batch_that_cannot_be_applied_leaves_the_mark_alone(oms: Oms):
    oms.pump.journal = None  # what the batch needs first is nowhere to be found
    _, _, batches = await trade(oms)
    with pytest.raises(EventOutOfOrder):
        await projector.project_batch(oms.container, batches[-1])

    assert await oms.container.store.journal.projected_seq("ABC") == 0


async def test_an_order_changed_by_another_writer_meanwhile_is_applied_from_a_fresh_read(
    oms: Oms, monkeypatch: pytest.MonkeyPatch
):
    """The batch reads all its orders at once; one changed before the batch writes it (a
    cancel request, say) is read again and gets the events on top of that change."""
    alice_id, _, batches = await trade(oms)
    store = oms.container.store
    orders = store.orders
    read_together = orders.get_any_of

    alice = await store.accounts.get(alice_id)
    assert alice is not None

    async def read_then_race(order_ids):
        found = await read_together(order_ids)
        for order in found.values():
            if order.account_id == alice_id:  # alice asks to cancel it right then
                await amending.cancel_order(oms.container, alice, order.order_id)
        return found

    monkeypatch.setattr(orders, "get_any_of", read_then_race)
    for batch in batches:
        await projector.project_batch(oms.container, batch)

    alice_order = (await orders.list_orders(alice_id)).items[0]
    assert alice_order.pending_command is not None  # the other writer's change is kept
    assert alice_order.status is OrderStatus.PENDING_CANCEL
    assert (alice_order.cum_qty, alice_order.leaves_qty) == (4, 6)
    assert len((await store.executions.list_by_account(alice_id)).items) == 1


async def test_each_pushed_fill_carries_the_position_right_after_it(oms: Oms):
    alice_id, _ = await oms.add_account("alice")
    bob_id, _ = await oms.add_account("bob")
    store = oms.container.store
    alice = await store.accounts.get(alice_id)
    bob = await store.accounts.get(bob_id)
    assert alice and bob
    await place_order(oms.container, alice, limit(Side.SELL, "3"))
    await place_order(oms.container, alice, limit(Side.SELL, "5"))
    await oms.pump.match()
    await place_order(oms.container, bob, limit(Side.BUY, "8"))  # takes both in one command
    await oms.pump.match()
    for batch in oms.pump.batches:
        await projector.project_batch(oms.container, batch)

    def positions(account_id: str) -> list[str]:
        reported = oms.notifier.envelopes(account_id, "executionReported")
        return [envelope["data"]["position_quantity"] for envelope in reported]

    assert positions(bob_id) == ["3", "8"]
    assert positions(alice_id) == ["-3", "-8"]


async def journal_batches(oms: Oms, batches: list[EventBatch]) -> None:
    """What the matcher journals (and marks published) before it publishes the batches."""
    entries = [
        JournalEntry(
            b.symbol,
            b.command_id,
            b.first_seq,
            b.last_seq,
            {"kind": "new_order", "command_id": b.command_id, "ts": b.events[0].ts},
            [e.to_dict() for e in b.events],
        )
        for b in batches
    ]
    journal = oms.container.store.journal
    await journal.append(entries)
    await journal.mark_published("ABC", batches[-1].last_seq)


async def test_a_dead_lettered_batch_is_applied_from_the_journal_before_the_next_one(oms: Oms):
    alice_id, bob_id, batches = await trade(oms)
    await journal_batches(oms, batches)
    lost, *rest = batches  # alice's accept never got through: dead-lettered
    assert rest

    for batch in rest:
        await projector.project_batch(oms.container, batch)

    store = oms.container.store
    order = (await store.orders.list_orders(alice_id)).items[0]
    assert (order.status, order.cum_qty, order.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        4,
        6,
    )
    assert order.seq == 2  # accepted, then filled: both applied, in order
    assert await store.journal.projected_seq("ABC") == batches[-1].last_seq
    position = await store.positions.get(bob_id, "ABC")
    assert position is not None and position.net_quantity == 4
    await projector.project_batch(oms.container, lost)  # a late copy changes nothing
    assert (await store.orders.get(alice_id, order.order_id)) == order


async def test_the_sweep_applies_published_events_whose_batches_all_went_missing(oms: Oms):
    alice_id, bob_id, batches = await trade(oms)
    await journal_batches(oms, batches)  # and every batch is dead-lettered

    young = await sweep.sweep_outbox(oms.container)
    assert young.projected == 0  # within the grace they may still be on their way
    oms.clock.advance(sweep.GRACE_NS / 1e9 + 1)
    report = await sweep.sweep_outbox(oms.container)

    assert report.projected == len(batches)
    order = (await oms.container.store.orders.list_orders(alice_id)).items[0]
    assert (order.status, order.cum_qty) == (OrderStatus.PARTIALLY_FILLED, 4)
    assert len((await oms.container.store.executions.list_by_account(bob_id)).items) == 1
    assert (await sweep.sweep_outbox(oms.container)).projected == 0


async def test_a_venue_alert_reaches_admins_live_and_in_the_audit_once_however_redelivered(
    oms: Oms,
):
    alert = VenueAlert(
        "ABC", 1, 1_700_000_000_000_000_000, "fixv", "UNKNOWN_VENUE_ORDER",
        "", "FOREIGN-1", "E-9", "new", "an order placed at the venue by hand",
    )  # fmt: skip
    batch = EventBatch("ABC", "cmd-venue-report", 1, 1, (alert,), ())
    await projector.project_batch(oms.container, batch)
    await projector.project_batch(oms.container, batch)  # redelivered
    await oms.container.background.drain()  # the pushes leave in the background

    where = AuditFilter(action="venue.unknown_venue_order")
    (entry,) = (await oms.container.store.audit.list_entries(where)).items
    assert (entry.actor, entry.target_id) == ("venue:fixv", "FOREIGN-1")
    assert "an order placed at the venue by hand" in entry.detail
    pushed: list[Any] = [
        args[0]
        for group, target, args in oms.notifier.sent
        if (group, target) == ("admin", "auditRecorded")
        and args[0]["data"]["action"] == "venue.unknown_venue_order"  # type: ignore[index]
    ]
    assert pushed, "admins hear it live"
    assert {p["data"]["audit_id"] for p in pushed} == {entry.audit_id}  # the same entry
