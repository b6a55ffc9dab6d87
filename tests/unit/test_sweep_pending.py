"""The pending-command outbox: a cancel or replace whose command never reached the matcher
(the send failed, or the volatile bus lost it) is sent again by the sweep with the same
command id, and an answered request is never sent again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.factory import memory_queues
from shared.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from shared.domain.order import Order
from shared.ports.store_accounts import Account
from shared.services import projector, sweep
from shared.services.amending import ReplaceRequest, cancel_order, replace_order
from shared.services.mass_cancel import cancel_all
from shared.services.placing import place_order
from shared.services.tickets import OrderRequest
from tests.support.oms import Oms, bus_down, make_oms


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    await system.add_instrument("ABC", "0.01", "1", reference_price="100")
    yield system
    await system.container.store.close()


def lose_the_bus(oms: Oms) -> None:
    """What a `kill -9` does to the in-memory bus: every queued message is gone (the
    matcher stand-in keeps its books, as the real one rebuilds them from its journal)."""
    bus = InMemoryBus(memory_queues(oms.container.settings))
    oms.container.bus = bus
    oms.pump.bus = bus


async def account(oms: Oms, name: str) -> Account:
    account_id, _ = await oms.add_account(name)
    found = await oms.container.store.accounts.get(account_id)
    assert found is not None
    return found


def limit(side: Side, quantity: str, price: str = "100") -> OrderRequest:
    return OrderRequest("ABC", side, OrderType.LIMIT, quantity, TimeInForce.GTC, price)


async def stored(oms: Oms, order: Order) -> Order:
    found = await oms.container.store.orders.get(order.account_id, order.order_id)
    assert found is not None
    return found


async def test_a_cancel_the_bus_refused_is_sent_by_the_sweep(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    await oms.settle()
    with bus_down(oms.container.bus):
        pending = await cancel_order(oms.container, alice, order.order_id)  # still a 202

    assert pending.status is OrderStatus.PENDING_CANCEL
    assert pending.pending_command is not None
    assert pending.pending_command["kind"] == "cancel_order"
    assert await sweep.resend_pending(oms.container) == 0  # too young
    oms.clock.advance(10)
    assert await sweep.resend_pending(oms.container) == 1
    await oms.settle()
    done = await stored(oms, order)
    assert (done.status, done.canceled_qty, done.pending_command) == (
        OrderStatus.CANCELED,
        5,
        None,
    )
    assert await sweep.resend_pending(oms.container) == 0


async def test_a_lost_replace_is_resent_once_with_its_first_command_id(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    await oms.settle()
    pending = await replace_order(
        oms.container, alice, order.order_id, ReplaceRequest(quantity="8")
    )
    assert pending.pending_command is not None
    first_id = pending.pending_command["command_id"]
    lose_the_bus(oms)
    oms.clock.advance(10)

    assert await sweep.resend_pending(oms.container) == 1
    await oms.settle()

    done = await stored(oms, order)
    assert (done.status, done.quantity, done.leaves_qty) == (OrderStatus.NEW, 8, 8)
    assert done.pending_command is None
    assert first_id in oms.pump.done_commands
    oms.clock.advance(10)
    assert await sweep.resend_pending(oms.container) == 0  # answered: never sent again


async def test_a_request_that_got_through_is_not_applied_twice_when_resent(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    await oms.settle()
    await replace_order(oms.container, alice, order.order_id, ReplaceRequest(quantity="9"))
    await oms.pump.match()  # the matcher replaced it; the answer is still on its way
    oms.clock.advance(10)

    assert await sweep.resend_pending(oms.container) == 1
    await oms.settle()

    done = await stored(oms, order)
    assert (done.status, done.quantity, done.seq) == (OrderStatus.NEW, 9, 2)


async def test_an_order_and_its_cancel_both_lost_are_placed_then_canceled(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    await cancel_order(oms.container, alice, order.order_id)
    lose_the_bus(oms)
    oms.clock.advance(10)

    assert await sweep.sweep_outbox(oms.container) == sweep.SweepReport(0, 1)
    await oms.settle()

    done = await stored(oms, order)
    assert (done.status, done.canceled_qty, done.leaves_qty) == (
        OrderStatus.CANCELED,
        5,
        0,
    )


async def test_a_lost_new_order_is_resent_while_it_is_pending_new(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    assert order.dispatched
    await oms.container.background.drain()  # its outbox mark, written after the answer
    lose_the_bus(oms)
    oms.clock.advance(10)

    assert await sweep.sweep_outbox(oms.container) == sweep.SweepReport(0, 1)
    await oms.settle()

    assert (await stored(oms, order)).status is OrderStatus.NEW


async def test_a_lost_cancel_all_cancels_exactly_the_orders_it_marked(oms: Oms):
    alice = await account(oms, "alice")
    first = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    second = (await place_order(oms.container, alice, limit(Side.BUY, "6", "99"))).order
    await oms.settle()
    marked = await cancel_all(oms.container, alice, None)
    assert {o.order_id for o in marked} == {first.order_id, second.order_id}
    lose_the_bus(oms)
    later = (await place_order(oms.container, alice, limit(Side.BUY, "7", "98"))).order
    await oms.settle()
    oms.clock.advance(10)

    assert await sweep.resend_pending(oms.container) == 2
    await oms.settle()

    assert (await stored(oms, first)).status is OrderStatus.CANCELED
    assert (await stored(oms, second)).status is OrderStatus.CANCELED
    assert (await stored(oms, later)).status is OrderStatus.NEW


async def test_a_repeated_cancel_resends_the_same_command(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    await oms.settle()
    first = await cancel_order(oms.container, alice, order.order_id)
    again = await cancel_order(oms.container, alice, order.order_id)

    assert first.pending_command == again.pending_command
    await oms.settle()
    assert (await stored(oms, order)).status is OrderStatus.CANCELED


async def test_a_cancel_sent_after_a_replace_stays_pending_until_it_is_answered(oms: Oms):
    alice = await account(oms, "alice")
    order = (await place_order(oms.container, alice, limit(Side.BUY, "5"))).order
    await oms.settle()
    await replace_order(oms.container, alice, order.order_id, ReplaceRequest(quantity="8"))
    await oms.pump.match()  # the matcher replaced it; the answer is on its way
    await cancel_order(oms.container, alice, order.order_id)
    replaced = next(b for b in oms.pump.batches if b.events[0].KIND == "order_replaced")

    await projector.project_batch(oms.container, replaced)

    waiting = await stored(oms, order)
    assert (waiting.status, waiting.quantity) == (OrderStatus.PENDING_CANCEL, 8)
    assert waiting.pending_command is not None  # the cancel can still be resent
    await oms.settle()
    assert (await stored(oms, order)).status is OrderStatus.CANCELED
