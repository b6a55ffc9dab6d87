"""A whole order life over the API: place, fill, replace, cancel, across two accounts."""

from __future__ import annotations

from tests.support.oms import Client, Oms, Transport


async def test_place_fill_replace_cancel_across_two_accounts(oms: Oms, transport: Transport):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    alice_id, alice_key = await oms.add_account("alice")
    bob_id, bob_key = await oms.add_account("bob")
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)

    placed = await alice.place(
        symbol="ABC",
        side="sell",
        type="limit",
        quantity="10",
        limit_price="100.00",
        time_in_force="gtc",
        client_order_id="alice-1",
    )
    assert placed.status == 202, placed.body
    order = placed.json()
    order_id = order["order_id"]
    assert order["status"] == "pending_new"
    assert order["account_id"] == alice_id
    assert (order["quantity"], order["limit_price"], order["leaves_quantity"]) == (
        "10",
        "100",
        "10",
    )

    await oms.settle()
    assert (await alice.call("GET", f"/api/orders/{order_id}")).json()["status"] == "new"

    taken = await bob.place(symbol="ABC", side="buy", type="limit", quantity="4", limit_price="100")
    assert taken.status == 202
    await oms.settle()
    bob_order = (await bob.call("GET", f"/api/orders/{taken.json()['order_id']}")).json()
    assert (bob_order["status"], bob_order["filled_quantity"]) == ("filled", "4")
    assert bob_order["average_fill_price"] == "100"
    order = (await alice.call("GET", f"/api/orders/{order_id}")).json()
    assert (order["status"], order["filled_quantity"], order["leaves_quantity"]) == (
        "partially_filled",
        "4",
        "6",
    )

    # Another account's order does not exist for bob, whatever he tries.
    for method in ("GET", "DELETE"):
        assert (await bob.call(method, f"/api/orders/{order_id}")).status == 404
    assert (
        await bob.call("PATCH", f"/api/orders/{order_id}", json={"quantity": "5"})
    ).status == 404
    assert (await bob.call("GET", "/api/orders/by-client-id/alice-1")).status == 404

    # Replace down to 8 in total: 4 filled, so 4 left, same order id.
    replaced = await alice.call("PATCH", f"/api/orders/{order_id}", json={"quantity": "8"})
    assert replaced.status == 202, replaced.body
    assert replaced.json()["status"] == "pending_replace"
    await oms.settle()
    order = (await alice.call("GET", f"/api/orders/{order_id}")).json()
    assert (order["quantity"], order["filled_quantity"], order["leaves_quantity"]) == (
        "8",
        "4",
        "4",
    )
    assert order["status"] == "partially_filled"

    # A new price and a new client order id: the chain is kept.
    replaced = await alice.call(
        "PATCH",
        f"/api/orders/{order_id}",
        json={"limit_price": "101", "client_order_id": "alice-2"},
    )
    assert replaced.status == 202, replaced.body
    await oms.settle()
    by_client = (await alice.call("GET", "/api/orders/by-client-id/alice-2")).json()
    assert by_client["order_id"] == order_id
    assert by_client["limit_price"] == "101"
    assert by_client["previous_client_order_ids"] == ["alice-1"]

    canceled = await alice.call("DELETE", f"/api/orders/{order_id}")
    assert canceled.status == 202
    assert canceled.json()["status"] == "pending_cancel"
    await oms.settle()
    order = (await alice.call("GET", f"/api/orders/{order_id}")).json()
    assert order["status"] == "canceled"
    assert (order["filled_quantity"], order["leaves_quantity"], order["canceled_quantity"]) == (
        "4",
        "0",
        "4",
    )
    again = await alice.call("DELETE", f"/api/orders/{order_id}")
    assert (again.status, again.json()["reason"]) == (409, "ORDER_NOT_OPEN")

    # Fills, trades and positions agree on both sides.
    alice_fills = (await alice.call("GET", "/api/executions")).json()["items"]
    bob_fills = (await bob.call("GET", "/api/executions")).json()["items"]
    assert [f["liquidity"] for f in alice_fills] == ["maker"]
    assert [f["liquidity"] for f in bob_fills] == ["taker"]
    assert alice_fills[0]["trade_id"] == bob_fills[0]["trade_id"]
    assert alice_fills[0]["order_id"] == order_id
    trades = (await alice.call("GET", "/api/trades", params={"symbol": "ABC"})).json()["items"]
    assert [(t["quantity"], t["price"], t["taker_side"]) for t in trades] == [("4", "100", "buy")]
    alice_pos = (await alice.call("GET", "/api/positions")).json()["items"]
    bob_pos = (await bob.call("GET", "/api/positions")).json()["items"]
    assert [(p["symbol"], p["net_quantity"]) for p in alice_pos] == [("ABC", "-4")]
    assert [(p["symbol"], p["net_quantity"]) for p in bob_pos] == [("ABC", "4")]

    # Alice's live feed: every change of her order, numbered without gaps, and her fill.
    feed = oms.notifier.envelopes(alice_id)
    assert [m["seq"] for m in feed] == list(range(1, len(feed) + 1))
    updates = [m["data"] for m in feed if m["data"].get("order_id") == order_id]
    assert updates[-1]["status"] == "canceled"
    fills = oms.notifier.envelopes(alice_id, "executionReported")
    assert [m["data"]["execution_id"] for m in fills] == [alice_fills[0]["execution_id"]]
    assert not any(m["data"].get("order_id") == order_id for m in oms.notifier.envelopes(bob_id))
