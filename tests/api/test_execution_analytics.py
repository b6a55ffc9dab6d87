"""Execution analytics over the API: per order fill price, fees, fill rate and latencies
from receipt; in aggregate by account, instrument and venue over a time window."""

from __future__ import annotations

from decimal import Decimal

from tests.support.oms import Client, Oms, Transport


async def test_order_and_aggregate_analytics(oms: Oms, transport: Transport):
    await oms.add_instrument(
        "ABC", "0.01", "1", reference_price="100", maker_fee_cbps=500, taker_fee_cbps=1_000
    )
    alice_id, alice_key = await oms.add_account("alice")
    bob_id, bob_key = await oms.add_account("bob")
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)
    admin = Client(transport, oms.admin_key)
    sell = await alice.place(
        symbol="ABC",
        side="sell",
        type="limit",
        quantity="10",
        limit_price="100",
        time_in_force="gtc",
    )
    sell_id = sell.json()["order_id"]
    before = await alice.call("GET", f"/api/orders/{sell_id}/analytics")
    assert before.json()["accepted_at"] is None and before.json()["fill_rate"] == "0"
    oms.clock.advance(0.010)  # the matcher runs it 10 ms after it was received
    await oms.settle()
    buy = await bob.place(symbol="ABC", side="buy", type="limit", quantity="4", limit_price="100")
    buy_id = buy.json()["order_id"]
    oms.clock.advance(0.005)
    await oms.settle()

    mine = (await alice.call("GET", f"/api/orders/{sell_id}/analytics")).json()
    theirs = (await bob.call("GET", f"/api/orders/{buy_id}/analytics")).json()

    assert mine == mine | {
        "venue": "internal",
        "status": "partially_filled",
        "quantity": "10",
        "filled_quantity": "4",
        "fill_rate": "0.4",
        "average_fill_price": "100",
        "fees": "0.2",
        "completed_at": None,
        "arrival_price": None,  # it met an empty book, and no trade yet
        "slippage_bps": None,
    }
    assert 10 <= Decimal(mine["latency_ms"]["accept"]) < 11
    assert Decimal(mine["latency_ms"]["first_fill"]) > 15  # filled by bob's order, later
    assert theirs == theirs | {"fill_rate": "1", "fees": "0.4", "status": "filled"}
    bob_latency = {k: Decimal(v) for k, v in theirs["latency_ms"].items()}
    assert 5 <= bob_latency["accept"] <= bob_latency["first_fill"] <= bob_latency["complete"] < 6
    assert (await bob.call("GET", f"/api/orders/{sell_id}/analytics")).status == 404

    # Aggregates: the caller's own orders by default, by instrument and venue.
    own = (await alice.call("GET", "/api/analytics")).json()
    assert own["group_by"] == ["instrument", "venue"]
    (group,) = own["items"]
    assert group == group | {
        "key": {"instrument": "ABC", "venue": "internal"},
        "orders": 1,
        "filled_orders": 0,
        "fill_rate": "0.4",
        "fees": "0.2",
    }
    assert group["latency_ms"]["accept"]["p50"] == mine["latency_ms"]["accept"]
    assert group["slippage_bps"] == {"p50": None, "p95": None, "p99": None, "mean": None}
    # Every account's, by account (admins only); and a window with nothing in it.
    everyone = await admin.call(
        "GET", "/api/analytics", params={"account_id": "*", "group_by": ["account"]}
    )
    by_account = {g["key"]["account"]: g for g in everyone.json()["items"]}
    assert (by_account[alice_id]["fill_rate"], by_account[bob_id]["fill_rate"]) == ("0.4", "1")
    assert by_account[bob_id]["fees"] == "0.4"
    assert (await alice.call("GET", "/api/analytics", params={"account_id": bob_id})).status == 403
    empty = await alice.call("GET", "/api/analytics", params={"since": "2100-01-01T00:00:00Z"})
    assert empty.json()["items"] == []


async def test_slippage_is_measured_from_the_book_the_order_arrived_at(oms: Oms, transport):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100", taker_fee_cbps=1_000)
    _, alice_key = await oms.add_account("alice")
    _, bob_key = await oms.add_account("bob")
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)
    for side, price in (("sell", "100"), ("buy", "99")):
        await alice.place(symbol="ABC", side=side, type="limit", quantity="5", limit_price=price)
    await oms.settle()
    buy = await bob.place(symbol="ABC", side="buy", type="market", quantity="2")
    await oms.settle()
    sell = await bob.place(symbol="ABC", side="sell", type="market", quantity="1")
    await oms.settle()

    bought = (await bob.call("GET", f"/api/orders/{buy.json()['order_id']}/analytics")).json()
    sold = (await bob.call("GET", f"/api/orders/{sell.json()['order_id']}/analytics")).json()

    # The buy met bid 99 / ask 100 (mid 99.50) and paid 100: 0.50 / 99.50 = 50.2513 bps;
    # shortfall 0.50 x 2 + the taker fee 0.1% of 200 = 1.2
    assert bought == bought | {
        "arrival_price": "99.5",
        "average_fill_price": "100",
        "slippage_bps": "50.25",
        "implementation_shortfall": "1.2",
    }
    # The sale met the same book and sold at 99: 0.50 / 99.50 below arrival, a cost too;
    # shortfall 0.50 + 0.099 of fees
    assert sold == sold | {
        "arrival_price": "99.5",
        "slippage_bps": "50.25",
        "implementation_shortfall": "0.599",
    }
    (group,) = (await bob.call("GET", "/api/analytics")).json()["items"]
    assert group["slippage_bps"] == {
        "p50": "50.25",
        "p95": "50.25",
        "p99": "50.25",
        "mean": "50.25",
    }
