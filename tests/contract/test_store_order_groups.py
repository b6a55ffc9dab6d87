"""Contract: an order's newer fields and contingent groups, on every store adapter; and the
documents older versions stored still read back."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import orjson
import pytest

from shared.domain.enums import OrderClass, OrderStatus, OrderType, Side
from shared.domain.events import OrderAccepted, OrderRestated, TrailingStopMoved
from shared.ports.store_codec import order_to_doc
from shared.ports.store_errors import DuplicateClientOrderId
from shared.ports.store_risk import LedgerChange, RiskLedger
from shared.services.errors import RiskRefused


def bracket(make_order: Any, head: str = "e1", client: str = "b") -> list[Any]:
    entry = make_order(
        order_id=head,
        client_order_id=client,
        order_class=OrderClass.BRACKET,
        leg="entry",
        display_qty=10,
        post_only=True,
    )
    legs = [
        make_order(
            order_id=f"{head}-{suffix}",
            client_order_id=f"{client}-{suffix}",
            side=Side.SELL,
            order_class=OrderClass.BRACKET,
            leg=leg,
            parent_order_id=head,
            created_at=entry.created_at,
            **prices,
        )
        for suffix, leg, prices in (
            ("tp", "take_profit", {"limit_price": 16_000}),
            (
                "sl",
                "stop_loss",
                {"type": OrderType.TRAILING_STOP, "limit_price": None, "trail_cbps": 12_500},
            ),
        )
    ]
    for leg in legs:
        leg.held_qty, leg.leaves_qty = leg.quantity, 0
    return [entry, *legs]


def claims(orders: list[Any]) -> list[str]:
    return [f"client-order-id:{o.client_order_id}" for o in orders]


async def test_a_group_is_stored_whole_and_read_back_head_first(store, make_order):
    group = bracket(make_order)

    await store.orders.create_group(group, claims(group))

    ids = ["e1", "e1-tp", "e1-sl"]
    assert await store.orders.get_group("acc-1", ids) == group
    assert await store.orders.get_group("acc-2", ids) == []
    assert [o.order_id for o in await store.orders.get_group("acc-1", ["e1-sl", "e1"])] == [
        "e1-sl",
        "e1",
    ]
    stop = await store.orders.get_by_client_order_id("acc-1", "b-sl")
    assert stop is not None
    assert (stop.status, stop.leaves_qty, stop.held_qty, stop.trail_cbps) == (
        OrderStatus.PENDING_NEW,
        0,
        100,
        12_500,
    )
    assert (stop.order_class, stop.leg, stop.parent_order_id) == ("bracket", "stop_loss", "e1")
    claim = await store.idempotency.get("acc-1", "client-order-id:b-tp")
    assert claim is not None and claim.body == b"e1-tp"


async def test_a_group_whose_legs_client_order_id_is_taken_stores_no_order(store, make_order):
    taken = make_order(client_order_id="b-tp")
    await store.orders.create(taken, "client-order-id:b-tp")
    group = bracket(make_order)

    with pytest.raises(DuplicateClientOrderId) as raised:
        await store.orders.create_group(group, claims(group))

    assert raised.value.existing_order_id == taken.order_id
    assert raised.value.client_order_id == "b-tp"
    assert (await store.orders.list_orders("acc-1")).items == [taken]


async def test_every_newer_field_follows_the_order_through_its_updates(store, make_order):
    entry, _, stop = bracket(make_order)
    await store.orders.create_group([entry, stop], claims([entry, stop]))

    stop.apply(
        OrderAccepted(
            "AAPL", 2, 1, stop.order_id, "acc-1", 1, "held", "sell", "ts", 100, 0, 0, 0, 100
        )
    )
    stop.apply(
        OrderRestated(
            "AAPL", 5, 2, stop.order_id, "acc-1", 2, "new", 100, 40, 0, 60, 0, "LEG_RELEASED"
        )
    )
    stop.apply(TrailingStopMoved("AAPL", 6, 3, stop.order_id, "acc-1", 3, "new", 14_800, 15_100))
    await store.orders.update(stop, stop.version)

    back = await store.orders.get("acc-1", stop.order_id)
    assert back == stop
    assert back is not None
    assert (back.leaves_qty, back.held_qty, back.stop_price, back.high_water_mark) == (
        40,
        60,
        14_800,
        15_100,
    )
    assert (await store.orders.get("acc-1", "e1")) == entry
    assert (entry.display_qty, entry.post_only) == (10, True)


OLDER_DOCUMENT = {
    "order_id": "old-1",
    "client_order_id": "c-old",
    "account_id": "acc-1",
    "symbol": "AAPL",
    "side": "buy",
    "type": "limit",
    "time_in_force": "gtc",
    "quantity": 10,
    "limit_price": 15_000,
    "stop_price": None,
    "created_at": 1,
    "expire_at": None,
    "status": "new",
    "filled_quantity": 0,
    "leaves_quantity": 10,
    "canceled_quantity": 0,
    "filled_notional": 0,
    "fees": 0,
    "reject_reason": None,
    "updated_at": 2,
    "seq": 1,
    "version": 1,
    "dispatched": True,
    "client_order_id_chain": [],
}


async def _store_raw(store: Any, doc: dict[str, Any]) -> None:
    """Write a document as an older version did, past the adapter's codec."""
    connection = store.connection
    if hasattr(connection, "write"):  # SQLite
        row = (
            doc["order_id"],
            doc["account_id"],
            doc["client_order_id"],
            doc["symbol"],
            doc["side"],
            doc["status"],
            doc["created_at"],
            doc["version"],
            1,
            orjson.dumps(doc),
            doc["updated_at"],
            doc["limit_price"],
            doc["leaves_quantity"],
        )
        await connection.write_one(
            "INSERT INTO orders (order_id, account_id, client_order_id, symbol, side, status,"
            " created_at, version, dispatched, doc, updated_at, order_price, leaves_quantity)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            row,
        )
    else:
        collection = connection.client[connection.database]["orders"]
        await collection.insert_one({"_id": doc["order_id"], **doc})


async def test_an_order_stored_before_the_newer_fields_reads_as_a_simple_order(store):
    await _store_raw(store, OLDER_DOCUMENT)

    order = await store.orders.get("acc-1", "old-1")

    assert order is not None
    assert (order.order_class, order.leg, order.parent_order_id, order.held_qty) == (
        "simple",
        "",
        "",
        0,
    )
    assert (order.display_qty, order.post_only, order.reduce_only, order.trail_amount) == (
        0,
        False,
        False,
        0,
    )
    assert order_to_doc(order)["leaves_quantity"] == 10
    order.reduce_only = True  # written back with every field from now on
    await store.orders.update(order, order.version)
    again = await store.orders.get("acc-1", "old-1")
    assert again is not None and again.reduce_only


async def test_top_level_orders_leave_the_legs_out(store, make_order):
    group = bracket(make_order)
    await store.orders.create_group(group, claims(group))
    simple = make_order(created_at=group[0].created_at + 1)
    await store.orders.create(simple)
    await _store_raw(store, OLDER_DOCUMENT)  # no parent_order_id at all: top level

    page = await store.orders.list_orders("acc-1", top_level=True)

    assert [o.order_id for o in page.items] == [simple.order_id, "e1", "old-1"]
    assert len((await store.orders.list_orders("acc-1")).items) == 5
    first = await store.orders.list_orders("acc-1", top_level=True, limit=1)
    rest = await store.orders.list_orders("acc-1", top_level=True, cursor=first.next_cursor)
    assert [o.order_id for o in first.items + rest.items] == [simple.order_id, "e1", "old-1"]


async def test_a_groups_share_of_the_limits_is_taken_with_it_or_not_at_all(store, make_order):
    def opened(ledger: RiskLedger) -> RiskLedger:
        return dataclasses.replace(
            ledger, open_orders=ledger.open_orders + 3, open_notional=ledger.open_notional + 150
        )

    def closed(ledger: RiskLedger) -> RiskLedger:
        return dataclasses.replace(
            ledger, open_orders=ledger.open_orders - 3, open_notional=ledger.open_notional - 150
        )

    def full(ledger: RiskLedger) -> RiskLedger:
        raise RiskRefused("MAX_OPEN_ORDERS_EXCEEDED", "3 open orders (limit 3)")

    fresh = RiskLedger("acc-1")
    group = bracket(make_order)
    await store.orders.create_group(
        group, claims(group), LedgerChange("acc-1", opened, fresh, True, closed)
    )

    ledger = await store.risk.get("acc-1")
    assert ledger is not None and (ledger.open_orders, ledger.open_notional) == (3, Decimal(150))

    # A refused share stores nothing of the group, its claims neither.
    other = bracket(make_order, head="e2", client="c")
    with pytest.raises(RiskRefused):
        await store.orders.create_group(
            other, claims(other), LedgerChange("acc-1", full, fresh, True, closed)
        )
    assert await store.orders.get_group("acc-1", ["e2", "e2-tp", "e2-sl"]) == []
    assert await store.idempotency.get("acc-1", "client-order-id:c") is None
    after = await store.risk.get("acc-1")
    assert after is not None and (after.open_orders, after.open_notional) == (3, Decimal(150))

    # A group that cannot be stored (a claim taken) gives its share back.
    taken = bracket(make_order, head="e3", client="b")  # the first group's client order ids
    with pytest.raises(DuplicateClientOrderId):
        await store.orders.create_group(
            taken, claims(taken), LedgerChange("acc-1", opened, fresh, True, closed)
        )
    last = await store.risk.get("acc-1")
    assert last is not None and (last.open_orders, last.open_notional) == (3, Decimal(150))
