"""Intake edges: a bus failure after the store write loses no order (the sweep sends it),
and bot orders from the order-requests queue go through the same checks, once per message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

import orjson
import pytest

from functions.triggers import on_order_request
from matcher.engine.venues import InstrumentVenues
from shared.adapters.bus_functions import to_functions_message
from shared.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from shared.ports.bus import BusMessage
from shared.ports.store_errors import StoreUnavailable
from shared.services import sweep
from shared.services.amending import ReplaceRequest, replace_order
from shared.services.errors import ServiceError
from shared.services.order_requests import UnknownAccount
from shared.services.placing import place_order
from shared.services.tickets import OrderRequest
from tests.support.oms import Oms, bus_down, cache_write_fails_once, make_oms


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    await system.add_instrument("ABC", "0.01", "1", reference_price="100")
    yield system
    await system.container.store.close()


async def test_the_answer_does_not_wait_for_the_dispatch_mark_and_a_lost_mark_costs_a_resend(
    oms: Oms, monkeypatch: pytest.MonkeyPatch
):
    account_id, _ = await oms.add_account("alice")
    account = await oms.container.store.accounts.get(account_id)
    assert account

    async def store_down(keys: Sequence[tuple[str, str]]) -> None:
        raise StoreUnavailable("the database went away")

    monkeypatch.setattr(oms.container.store.orders, "mark_all_dispatched", store_down)
    request = OrderRequest("ABC", Side.BUY, OrderType.LIMIT, "5", TimeInForce.GTC, "99")
    order = (await place_order(oms.container, account, request)).order  # answered, not raised
    await oms.container.background.drain()
    monkeypatch.undo()
    unmarked = await oms.container.store.orders.get(account_id, order.order_id)
    assert unmarked is not None and not unmarked.dispatched  # the mark was lost

    oms.clock.advance(10)
    assert await sweep.resend_undispatched(oms.container) == 1  # the NewOrder goes again
    await oms.settle()
    stored = await oms.container.store.orders.get(account_id, order.order_id)
    assert stored is not None and stored.status is OrderStatus.NEW and stored.dispatched
    assert stored.leaves_qty == 5  # booked once: the repeat was skipped by command id
    assert await sweep.resend_undispatched(oms.container) == 0


async def test_a_client_order_id_claimed_by_an_attempt_that_stopped_is_reused(oms: Oms):
    """A crash between the claim and the order (a store without transactions) leaves the
    claim: the next attempt takes over the claimed order id instead of a 409."""
    account_id, _ = await oms.add_account("alice")
    account = await oms.container.store.accounts.get(account_id)
    assert account
    await oms.container.store.idempotency.put_if_absent(
        account_id, "client-order-id:retry-me", "", 0, b"0123456789abcdef0123456789abcdef"
    )
    request = OrderRequest(
        "ABC", Side.BUY, OrderType.LIMIT, "5", TimeInForce.GTC, "99", client_order_id="retry-me"
    )

    order = (await place_order(oms.container, account, request)).order

    assert order.order_id == "0123456789abcdef0123456789abcdef"
    with pytest.raises(ServiceError) as again:
        await place_order(oms.container, account, request)
    assert again.value.reason == "DUPLICATE_CLIENT_ORDER_ID"


async def test_an_order_the_bus_refused_is_sent_by_the_sweep(oms: Oms):
    account_id, _ = await oms.add_account("alice")
    account = await oms.container.store.accounts.get(account_id)
    assert account
    request = OrderRequest("ABC", Side.BUY, OrderType.LIMIT, "5", TimeInForce.GTC, "99")
    with bus_down(oms.container.bus):
        order = (await place_order(oms.container, account, request)).order
    assert order.status is OrderStatus.PENDING_NEW and not order.dispatched

    assert (
        await sweep.resend_undispatched(oms.container) == 0
    )  # too young: its request may still send it
    oms.clock.advance(10)
    assert await sweep.resend_undispatched(oms.container) == 1
    assert await sweep.resend_undispatched(oms.container) == 0
    await oms.settle()
    stored = await oms.container.store.orders.get(account_id, order.order_id)
    assert stored is not None and stored.status is OrderStatus.NEW and stored.dispatched


def bot_message(account_id: str, body: Mapping[str, object], message_id: str = "m-1") -> BusMessage:
    return BusMessage(
        orjson.dumps(body), message_id, application_properties={"account_id": account_id}
    )


async def test_bot_orders_are_placed_once_per_message(oms: Oms):
    account_id, _ = await oms.add_account("bot")
    body = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "3", "limit_price": "99"}
    message = to_functions_message(bot_message(account_id, body))
    await on_order_request(oms.container, message)
    await on_order_request(oms.container, message)  # redelivered
    orders = (await oms.container.store.orders.list_orders(account_id)).items
    assert len(orders) == 1 and orders[0].quantity == 3
    await oms.settle()
    feed = oms.notifier.envelopes(account_id, "orderUpdated")
    assert feed[-1]["data"]["status"] == "new"


async def test_refused_bot_orders_are_answered_on_the_feed(oms: Oms):
    account_id, _ = await oms.add_account("bot")
    off_tick = {
        "symbol": "ABC",
        "side": "buy",
        "type": "limit",
        "quantity": "3",
        "limit_price": "99.001",
    }
    await on_order_request(oms.container, to_functions_message(bot_message(account_id, off_tick)))
    bad_field = {"symbol": "ABC", "side": "up", "type": "limit", "quantity": "3"}
    await on_order_request(
        oms.container, to_functions_message(bot_message(account_id, bad_field, "m-2"))
    )
    answers = [m["data"] for m in oms.notifier.envelopes(account_id)]
    assert [(a["event"], a["event_reason"], a["field"]) for a in answers] == [
        ("order_request_rejected", "PRICE_OFF_TICK", "limit_price"),
        ("order_request_rejected", "VALIDATION_FAILED", "side"),
    ]
    assert (await oms.container.store.orders.list_orders(account_id)).items == []


async def test_a_bot_message_without_a_known_account_is_poison(oms: Oms):
    body = {"symbol": "ABC", "side": "buy", "type": "market", "quantity": "1"}
    with pytest.raises(UnknownAccount):
        await on_order_request(oms.container, to_functions_message(bot_message("nobody", body)))


async def test_a_retry_after_a_failure_past_the_store_write_gets_the_same_order(oms: Oms):
    account_id, _ = await oms.add_account("carol")
    account = await oms.container.store.accounts.get(account_id)
    assert account
    request = OrderRequest("ABC", Side.BUY, OrderType.LIMIT, "5", TimeInForce.GTC, "99")
    with cache_write_fails_once(oms.container.cache), pytest.raises(ConnectionError):
        await place_order(oms.container, account, request, attempt_key="http:k-1")

    retried = (await place_order(oms.container, account, request, attempt_key="http:k-1")).order
    again = (await place_order(oms.container, account, request, attempt_key="http:k-1")).order
    assert retried.order_id == again.order_id
    page = await oms.container.store.orders.list_orders(account_id)
    assert [o.order_id for o in page.items] == [retried.order_id]  # one order, not two
    other = OrderRequest("ABC", Side.SELL, OrderType.LIMIT, "5", TimeInForce.GTC, "99")
    with pytest.raises(ServiceError) as refused:
        await place_order(oms.container, account, other, attempt_key="http:k-1")
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"
    await oms.settle()
    stored = await oms.container.store.orders.get(account_id, retried.order_id)
    assert stored is not None and stored.status is OrderStatus.NEW


async def test_a_second_replace_waits_for_the_first_answer(oms: Oms):
    account_id, _ = await oms.add_account("dave")
    account = await oms.container.store.accounts.get(account_id)
    assert account
    request = OrderRequest("ABC", Side.BUY, OrderType.LIMIT, "5", TimeInForce.GTC, "99")
    order = (await place_order(oms.container, account, request)).order
    await oms.settle()
    await replace_order(oms.container, account, order.order_id, ReplaceRequest(quantity="4"))
    with pytest.raises(ServiceError) as refused:
        await replace_order(oms.container, account, order.order_id, ReplaceRequest(quantity="3"))
    assert refused.value.reason == "REPLACE_PENDING"
    await oms.settle()
    await replace_order(oms.container, account, order.order_id, ReplaceRequest(quantity="3"))
    await oms.settle()
    stored = await oms.container.store.orders.get(account_id, order.order_id)
    assert stored is not None and stored.quantity == 3 and stored.status is OrderStatus.NEW


async def test_an_instrument_halt_the_bus_refused_reaches_the_matcher_with_the_sweep(oms: Oms):
    from shared.domain.enums import TradingState
    from shared.services import instrument_admin, sweep

    with bus_down(oms.container.bus), pytest.raises(ConnectionError):  # the admin is told
        await instrument_admin.set_instrument_state(
            oms.container, "ABC", TradingState.HALTED, "test"
        )
    stored = await oms.container.store.instruments.get("ABC")
    # Stored (the risk check refuses new orders at once), marked as not yet at the matcher.
    assert stored is not None and stored.trading_state is TradingState.HALTED
    assert stored.state_pending
    assert (await sweep.sweep_outbox(oms.container)).states == 1
    await oms.settle()
    venue = oms.pump.engine("ABC")
    assert isinstance(venue, InstrumentVenues) and venue.engine.state == "halted"
    stored = await oms.container.store.instruments.get("ABC")
    assert stored is not None and not stored.state_pending
    assert (await sweep.sweep_outbox(oms.container)).states == 0
