"""Contract: the order repository, on every store adapter."""

from __future__ import annotations

import asyncio
import random

import pytest

from shared.domain.enums import OrderStatus, OrderType, Side
from shared.domain.events import OrderAccepted
from shared.domain.order import OPEN_STATUSES, CancelRequested
from shared.ports.store_errors import (
    DuplicateClientOrderId,
    InvalidCursor,
    NotFound,
    VersionConflict,
)
from shared.ports.store_orders import OpenExposure
from shared.ports.store_paging import MAX_PAGE_SIZE


async def test_a_created_order_reads_back_equal(store, make_order):
    order = make_order(client_order_id_chain=["old-1"], expire_at=5, stop_price=None)
    await store.orders.create(order)

    assert await store.orders.get("acc-1", order.order_id) == order
    assert await store.orders.get_any(order.order_id) == order
    assert await store.orders.get_by_client_order_id("acc-1", order.client_order_id) == order


async def test_another_accounts_order_is_not_found(store, make_order):
    order = make_order(account_id="acc-1")
    await store.orders.create(order)

    assert await store.orders.get("acc-2", order.order_id) is None
    assert await store.orders.get_by_client_order_id("acc-2", order.client_order_id) is None


async def test_a_duplicate_client_order_id_names_the_existing_order(store, make_order):
    first = make_order(client_order_id="dup")
    await store.orders.create(first)

    with pytest.raises(DuplicateClientOrderId) as raised:
        await store.orders.create(make_order(client_order_id="dup"))

    assert raised.value.existing_order_id == first.order_id
    assert (await store.orders.list_orders("acc-1")).items == [first]


async def test_a_claim_made_with_the_order_names_it_as_the_holder(store, make_order):
    order = make_order(client_order_id="mine")
    await store.orders.create(order, "client-order-id:mine")

    claim = await store.idempotency.get("acc-1", "client-order-id:mine")
    assert claim is not None and claim.body == order.order_id.encode()
    assert await store.orders.get("acc-1", order.order_id) == order


async def test_a_claim_held_by_another_order_id_stores_nothing(store, make_order):
    await store.idempotency.put_if_absent("acc-1", "client-order-id:held", "", 0, b"earlier")
    order = make_order(client_order_id="held")

    with pytest.raises(DuplicateClientOrderId) as raised:
        await store.orders.create(order, "client-order-id:held")

    assert raised.value.existing_order_id == "earlier"
    assert await store.orders.get("acc-1", order.order_id) is None
    claim = await store.idempotency.get("acc-1", "client-order-id:held")
    assert claim is not None and claim.body == b"earlier"


async def test_a_claim_already_held_by_the_same_order_id_stores_the_order(store, make_order):
    """An earlier attempt claimed the id for this order id and stopped before its order."""
    order = make_order(client_order_id="retried")
    await store.idempotency.put_if_absent(
        "acc-1", "client-order-id:retried", "", 0, order.order_id.encode()
    )

    await store.orders.create(order, "client-order-id:retried")

    assert await store.orders.get("acc-1", order.order_id) == order


async def test_the_same_client_order_id_is_fine_for_another_account(store, make_order):
    await store.orders.create(make_order(client_order_id="same", account_id="acc-1"))
    await store.orders.create(make_order(client_order_id="same", account_id="acc-2"))

    assert await store.orders.get_by_client_order_id("acc-2", "same") is not None


async def test_an_update_bumps_the_version_and_persists_the_new_state(store, make_order):
    order = make_order()
    await store.orders.create(order)
    order.apply(
        OrderAccepted("AAPL", 1, 7, order.order_id, "acc-1", 1, "new", "buy", "limit", 100, 1, 0)
    )

    await store.orders.update(order, expected_version=0)

    stored = await store.orders.get("acc-1", order.order_id)
    assert stored is not None and stored.status is OrderStatus.NEW and stored.version == 1
    assert order.version == 1


async def test_a_stale_writer_gets_a_version_conflict_and_changes_nothing(store, make_order):
    order = make_order()
    await store.orders.create(order)
    fresh = await store.orders.get("acc-1", order.order_id)
    stale = await store.orders.get("acc-1", order.order_id)
    assert fresh is not None and stale is not None
    fresh.status = OrderStatus.NEW
    await store.orders.update(fresh, expected_version=0)

    stale.status = OrderStatus.CANCELED
    with pytest.raises(VersionConflict) as raised:
        await store.orders.update(stale, expected_version=0)

    assert raised.value.actual_version == 1
    stored = await store.orders.get("acc-1", order.order_id)
    assert stored is not None and stored.status is OrderStatus.NEW


async def test_concurrent_writers_on_one_version_exactly_one_wins(store, make_order):
    order = make_order()
    await store.orders.create(order)
    copies = [await store.orders.get("acc-1", order.order_id) for _ in range(5)]

    results = await asyncio.gather(
        *(store.orders.update(copy, expected_version=0) for copy in copies),
        return_exceptions=True,
    )

    assert sum(result is None for result in results) == 1
    assert sum(isinstance(result, VersionConflict) for result in results) == 4


async def test_updating_a_missing_order_is_not_found(store, make_order):
    with pytest.raises(NotFound):
        await store.orders.update(make_order(), expected_version=0)


async def test_list_is_newest_first_and_filters(store, make_order):
    orders = [
        make_order(created_at=100, side=Side.BUY, symbol="AAPL"),
        make_order(created_at=200, side=Side.SELL, symbol="AAPL", status=OrderStatus.NEW),
        make_order(created_at=300, side=Side.BUY, symbol="MSFT", status=OrderStatus.FILLED),
        make_order(created_at=400, side=Side.SELL, symbol="MSFT", status=OrderStatus.CANCELED),
        make_order(created_at=500, account_id="acc-2"),
    ]
    for order in orders:
        await store.orders.create(order)

    async def ids(**filters):
        page = await store.orders.list_orders("acc-1", **filters)
        return [o.created_at for o in page.items]

    assert await ids() == [400, 300, 200, 100]
    assert await ids(symbol="MSFT") == [400, 300]
    assert await ids(side=Side.SELL) == [400, 200]
    assert await ids(statuses=[OrderStatus.NEW, OrderStatus.FILLED]) == [300, 200]
    assert await ids(since=200, until=400) == [300, 200]
    assert await ids(symbol="AAPL", side=Side.BUY, statuses=[OrderStatus.PENDING_NEW]) == [100]


async def test_pages_cover_every_order_once_while_orders_arrive(store, make_order):
    rng = random.Random(7)
    existing = [make_order(created_at=rng.randrange(1_000, 2_000)) for _ in range(40)]
    for order in existing:
        await store.orders.create(order)

    seen: list[str] = []
    cursor = None
    while True:
        page = await store.orders.list_orders("acc-1", limit=7, cursor=cursor)
        seen.extend(order.order_id for order in page.items)
        # Newer and back-dated orders arrive between page requests.
        await asyncio.gather(
            store.orders.create(make_order(created_at=rng.randrange(0, 3_000))),
            store.orders.create(make_order(created_at=rng.randrange(0, 3_000))),
        )
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert len(seen) == len(set(seen))
    assert {order.order_id for order in existing} <= set(seen)


async def test_orders_with_the_same_timestamp_page_by_order_id(store, make_order):
    for _ in range(5):
        await store.orders.create(make_order(created_at=42))

    first = await store.orders.list_orders("acc-1", limit=3)
    second = await store.orders.list_orders("acc-1", limit=3, cursor=first.next_cursor)

    ids = [o.order_id for o in first.items + second.items]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5
    assert second.next_cursor is None


async def test_the_page_size_is_capped(store, make_order):
    page = await store.orders.list_orders("acc-1", limit=10 * MAX_PAGE_SIZE)
    assert page.items == [] and page.next_cursor is None


async def test_a_forged_cursor_is_refused(store):
    with pytest.raises(InvalidCursor):
        await store.orders.list_orders("acc-1", cursor="not-a-cursor")


async def test_the_outbox_lists_undispatched_orders_oldest_first(store, make_order):
    old, newer, too_new = (make_order(created_at=t) for t in (10, 20, 30))
    for order in (newer, old, too_new):
        await store.orders.create(order)

    assert [o.order_id for o in await store.orders.list_undispatched(25)] == [
        old.order_id,
        newer.order_id,
    ]

    await store.orders.mark_dispatched(old.order_id)
    await store.orders.mark_dispatched(newer.order_id, account_id="acc-1")

    assert await store.orders.list_undispatched(25) == []
    stored = await store.orders.get("acc-1", old.order_id)
    assert stored is not None and stored.dispatched and stored.version == 0


async def test_orders_read_together_are_the_ones_that_exist(store, make_order):
    mine, theirs = make_order(), make_order(account_id="acc-2")
    for order in (mine, theirs):
        await store.orders.create(order)

    found = await store.orders.get_any_of([mine.order_id, "no-such-order", theirs.order_id])

    assert found == {mine.order_id: mine, theirs.order_id: theirs}
    assert await store.orders.get_any_of([]) == {}


async def test_updates_written_together_each_stand_on_their_own(store, make_order):
    fresh, raced, missing = make_order(), make_order(), make_order()
    for order in (fresh, raced):
        await store.orders.create(order)
    winner = await store.orders.get(raced.account_id, raced.order_id)
    assert winner is not None
    winner.status = OrderStatus.CANCELED
    await store.orders.update(winner, expected_version=0)  # another writer got there first
    for order in (fresh, raced, missing):
        order.status = OrderStatus.NEW

    written = await store.orders.update_all([(fresh, 0), (raced, 0), (missing, 0)])

    assert written == [True, False, False]
    assert (fresh.version, raced.version) == (1, 0)  # only the written copy moves on
    stored = await store.orders.get_any_of([fresh.order_id, raced.order_id])
    assert stored[fresh.order_id].status is OrderStatus.NEW
    assert stored[fresh.order_id].version == 1
    assert stored[raced.order_id].status is OrderStatus.CANCELED  # the winner's write stays
    assert missing.order_id not in await store.orders.get_any_of([missing.order_id])
    assert await store.orders.update_all([]) == []


async def test_marks_written_together_clear_exactly_their_orders(store, make_order):
    orders = [make_order(created_at=t) for t in (10, 20, 30)]
    for order in orders:
        await store.orders.create(order)
    marked, left = orders[:2], orders[2]
    keys = [(order.order_id, order.account_id) for order in marked]

    await store.orders.mark_all_dispatched(keys)
    await store.orders.mark_all_dispatched(keys)  # again (a resend's mark): no change
    await store.orders.mark_all_dispatched([])

    assert [o.order_id for o in await store.orders.list_undispatched(99)] == [left.order_id]
    for order in marked:
        stored = await store.orders.get(order.account_id, order.order_id)
        assert stored is not None and stored.dispatched and stored.version == 0


async def test_an_update_from_a_stale_copy_keeps_the_dispatched_mark(store, make_order):
    order = make_order()
    await store.orders.create(order)
    await store.orders.mark_dispatched(order.order_id)

    order.status = OrderStatus.NEW  # this copy still says dispatched=False
    await store.orders.update(order, expected_version=0)

    stored = await store.orders.get("acc-1", order.order_id)
    assert stored is not None and stored.dispatched and stored.status is OrderStatus.NEW


async def test_the_pending_outbox_lists_waiting_orders_of_every_account_oldest_first(
    store, make_order
):
    waiting_new = make_order(account_id="acc-1", created_at=10)
    waiting_cancel = make_order(account_id="acc-2", created_at=5, updated_at=20)
    waiting_cancel.status = OrderStatus.PENDING_CANCEL
    waiting_cancel.pending_command = {"kind": "cancel_order", "command_id": "c-1", "ts": 20}
    too_recent = make_order(account_id="acc-1", created_at=40)
    answered = make_order(account_id="acc-3", created_at=1)
    answered.status = OrderStatus.NEW
    for order in (answered, too_recent, waiting_cancel, waiting_new):
        await store.orders.create(order)

    pending = await store.orders.list_pending(25)

    assert [o.order_id for o in pending] == [waiting_new.order_id, waiting_cancel.order_id]
    assert pending[1].pending_command == waiting_cancel.pending_command
    assert [o.order_id for o in await store.orders.list_pending(25, limit=1)] == [
        waiting_new.order_id
    ]


async def test_an_answered_order_leaves_the_pending_outbox(store, make_order):
    order = make_order(created_at=10)
    await store.orders.create(order)
    assert [o.order_id for o in await store.orders.list_pending(100)] == [order.order_id]

    order.apply(
        OrderAccepted("AAPL", 1, 30, order.order_id, "acc-1", 1, "new", "buy", "limit", 100, 1, 0)
    )
    await store.orders.update(order, expected_version=0)

    assert await store.orders.list_pending(100) == []


async def test_a_request_moves_the_order_back_into_the_pending_outbox(store, make_order):
    order = make_order(created_at=10)
    order.status = OrderStatus.NEW
    await store.orders.create(order)
    command = {"kind": "cancel_order", "command_id": "c-9", "ts": 50, "symbol": "AAPL"}

    order.apply(CancelRequested(50, command))
    await store.orders.update(order, expected_version=0)

    assert await store.orders.list_pending(49) == []
    [pending] = await store.orders.list_pending(50)
    assert pending.status is OrderStatus.PENDING_CANCEL and pending.pending_command == command


async def test_pending_pages_cover_every_waiting_order_once(store, make_order):
    orders = [make_order(created_at=t % 3) for t in range(7)]  # ties on updated_at
    for order in orders:
        await store.orders.create(order)

    seen: list[str] = []
    after = None
    while page := await store.orders.list_pending(10, limit=3, after=after):
        seen += [o.order_id for o in page]
        after = (page[-1].updated_at, page[-1].order_id)

    expected = sorted(orders, key=lambda o: (o.updated_at, o.order_id))
    assert seen == [o.order_id for o in expected]


def _exposure(rows):
    return sorted(
        ((r.symbol, r.price, r.open_orders, r.leaves_qty) for r in rows),
        key=lambda row: (row[0], row[1] is not None, row[1] or 0),
    )


async def test_open_exposure_adds_up_open_orders_by_symbol_and_price(store, make_order):
    partly, replacing = OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_REPLACE
    orders = [
        make_order(quantity=10, limit_price=100),
        make_order(quantity=5, limit_price=100, status=OrderStatus.NEW, leaves_qty=5),
        make_order(quantity=9, limit_price=100, status=partly, leaves_qty=6),
        make_order(quantity=3, limit_price=101, status=OrderStatus.PENDING_CANCEL, leaves_qty=3),
        make_order(quantity=2, type=OrderType.STOP, limit_price=None, stop_price=90),
        make_order(quantity=4, type=OrderType.STOP_LIMIT, limit_price=95, stop_price=90),
        make_order(quantity=7, type=OrderType.MARKET, limit_price=None),
        make_order(quantity=8, symbol="MSFT", limit_price=100, status=replacing, leaves_qty=8),
        make_order(quantity=1, symbol="MSFT", status=OrderStatus.PENDING_REPLACE, leaves_qty=1),
        make_order(quantity=50, status=OrderStatus.FILLED, leaves_qty=0),
        make_order(quantity=50, status=OrderStatus.CANCELED, leaves_qty=0),
        make_order(quantity=50, status=OrderStatus.REJECTED, leaves_qty=0),
        make_order(quantity=50, account_id="acc-2"),
    ]
    for order in orders:
        await store.orders.create(order)

    assert _exposure(await store.orders.open_exposure("acc-1")) == [
        ("AAPL", None, 1, 7),
        ("AAPL", 90, 1, 2),
        ("AAPL", 95, 1, 4),
        ("AAPL", 100, 3, 21),
        ("AAPL", 101, 1, 3),
        ("MSFT", 100, 1, 8),
        ("MSFT", 15_025, 1, 1),
    ]
    assert await store.orders.open_exposure("acc-3") == []


async def test_the_symbols_with_open_orders_of_any_account(store, make_order):
    assert await store.orders.open_symbols() == []
    done = make_order(symbol="DONE", status=OrderStatus.FILLED, leaves_qty=0)
    orders = [
        make_order(symbol="AAPL"),
        make_order(symbol="AAPL", account_id="acc-2"),
        make_order(symbol="MSFT", account_id="acc-3", status=OrderStatus.PENDING_CANCEL),
        done,
    ]
    for order in orders:
        await store.orders.create(order)
    assert sorted(await store.orders.open_symbols()) == ["AAPL", "MSFT"]


async def test_open_exposure_follows_fills_replaces_and_closes(store, make_order):
    order = make_order(quantity=10, limit_price=100)
    await store.orders.create(order)
    order.status, order.cum_qty, order.leaves_qty = OrderStatus.PARTIALLY_FILLED, 4, 6
    await store.orders.update(order, order.version)
    assert _exposure(await store.orders.open_exposure("acc-1")) == [("AAPL", 100, 1, 6)]

    order.quantity, order.leaves_qty, order.limit_price = 12, 8, 99
    await store.orders.update(order, order.version)
    assert _exposure(await store.orders.open_exposure("acc-1")) == [("AAPL", 99, 1, 8)]

    order.status, order.leaves_qty = OrderStatus.CANCELED, 0
    await store.orders.update(order, order.version)
    assert await store.orders.open_exposure("acc-1") == []


async def test_open_exposure_leaves_out_the_order_being_replaced(store, make_order):
    kept, replaced = make_order(quantity=3), make_order(quantity=5)
    await store.orders.create(kept)
    await store.orders.create(replaced)

    rows = await store.orders.open_exposure("acc-1", excluding=replaced.order_id)

    assert _exposure(rows) == [("AAPL", 15_025, 1, 3)]


async def test_open_exposure_sums_past_64_bits_exactly(store, make_order):
    big = 2**62 + 1
    for _ in range(3):
        await store.orders.create(make_order(quantity=big, limit_price=7))

    assert _exposure(await store.orders.open_exposure("acc-1")) == [("AAPL", 7, 3, 3 * big)]


async def test_open_exposure_moves_an_order_between_prices_without_losing_the_others(
    store, make_order
):
    moved, stays = make_order(quantity=5, limit_price=100), make_order(quantity=2, limit_price=100)
    await store.orders.create(moved)
    await store.orders.create(stays)

    moved.limit_price, moved.status = 101, OrderStatus.NEW
    await store.orders.update(moved, moved.version)
    assert _exposure(await store.orders.open_exposure("acc-1")) == [
        ("AAPL", 100, 1, 2),
        ("AAPL", 101, 1, 5),
    ]

    moved.limit_price = 100  # back: the group it left still has an order
    await store.orders.update(moved, moved.version)
    assert _exposure(await store.orders.open_exposure("acc-1")) == [("AAPL", 100, 2, 7)]


async def test_open_exposure_counts_orders_without_a_price_until_they_close(store, make_order):
    market = make_order(quantity=7, type=OrderType.MARKET, limit_price=None)
    await store.orders.create(market)
    await store.orders.create(make_order(quantity=3, limit_price=None, stop_price=0))
    assert _exposure(await store.orders.open_exposure("acc-1")) == [
        ("AAPL", None, 1, 7),
        ("AAPL", 0, 1, 3),
    ]

    market.status, market.cum_qty, market.leaves_qty = OrderStatus.FILLED, 7, 0
    await store.orders.update(market, market.version)

    assert _exposure(await store.orders.open_exposure("acc-1")) == [("AAPL", 0, 1, 3)]


async def test_open_exposure_excludes_only_an_open_order_of_the_account(store, make_order):
    open_order = make_order(quantity=3)
    closed = make_order(quantity=4, status=OrderStatus.CANCELED, leaves_qty=0)
    elsewhere = make_order(quantity=5, account_id="acc-2")
    for order in (open_order, closed, elsewhere):
        await store.orders.create(order)

    for excluded in (closed.order_id, elsewhere.order_id, "no-such-order"):
        rows = await store.orders.open_exposure("acc-1", excluding=excluded)
        assert _exposure(rows) == [("AAPL", 15_025, 1, 3)]
    assert await store.orders.open_exposure("acc-1", excluding=open_order.order_id) == []


async def test_open_exposure_stays_exact_when_sums_cross_64_bits_both_ways(store, make_order):
    big = 2**62 + 1
    orders = [make_order(quantity=big, limit_price=7) for _ in range(3)]
    for order in orders:
        await store.orders.create(order)
    other = make_order(quantity=5, limit_price=8)
    await store.orders.create(other)

    rows = await store.orders.open_exposure("acc-1", excluding=orders[0].order_id)
    assert _exposure(rows) == [("AAPL", 7, 2, 2 * big), ("AAPL", 8, 1, 5)]

    for order in orders[:2]:  # back below 2**63 - 1: exact still
        order.status, order.cum_qty, order.leaves_qty = OrderStatus.FILLED, big, 0
        await store.orders.update(order, order.version)
    orders[2].status, orders[2].leaves_qty = OrderStatus.PARTIALLY_FILLED, big - 3
    await store.orders.update(orders[2], orders[2].version)
    assert _exposure(await store.orders.open_exposure("acc-1")) == [
        ("AAPL", 7, 1, big - 3),
        ("AAPL", 8, 1, 5),
    ]

    orders[2].status, orders[2].leaves_qty = OrderStatus.CANCELED, 0
    await store.orders.update(orders[2], orders[2].version)
    await store.orders.create(make_order(quantity=2**63 - 1, limit_price=7))
    assert _exposure(await store.orders.open_exposure("acc-1")) == [
        ("AAPL", 7, 1, 2**63 - 1),
        ("AAPL", 8, 1, 5),
    ]


async def test_open_exposure_matches_the_open_orders_after_random_changes(store, make_order):
    rng = random.Random(7)
    statuses = list(OrderStatus)
    orders = []
    for _ in range(40):
        order = make_order(
            account_id=rng.choice(["acc-1", "acc-2"]),
            symbol=rng.choice(["AAPL", "MSFT"]),
            quantity=rng.randint(1, 50),
            limit_price=rng.choice([None, 99, 100]),
            status=rng.choice(statuses),
        )
        await store.orders.create(order)
        orders.append(order)
    for _ in range(120):
        order = rng.choice(orders)
        order.status = rng.choice(statuses)
        order.leaves_qty = rng.randint(0, order.quantity)
        order.limit_price = rng.choice([None, 99, 100, 101])
        await store.orders.update(order, order.version)

    for account in ("acc-1", "acc-2"):
        expected: dict[tuple[str, int | None], list[int]] = {}
        for order in orders:
            if order.account_id == account and order.status in OPEN_STATUSES:
                group = expected.setdefault((order.symbol, order.limit_price), [0, 0])
                group[0] += 1
                group[1] += order.leaves_qty
        rows = await store.orders.open_exposure(account)
        assert _exposure(rows) == _exposure(
            [OpenExposure(s, p, n, leaves) for (s, p), (n, leaves) in expected.items()]
        )
