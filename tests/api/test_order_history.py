"""An order's audit trail over the API: every matcher event, in order, as stored; the same
after a redelivery; nobody else's."""

from __future__ import annotations

from shared.services import projector
from tests.support.oms import Client, Oms, Transport


async def test_the_audit_trail_lists_every_event_of_the_order_in_order(
    oms: Oms, transport: Transport
):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100", taker_fee_cbps=50)
    _, alice_key = await oms.add_account("alice")
    _, bob_key = await oms.add_account("bob")
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)
    resting = await alice.place(
        symbol="ABC",
        side="sell",
        type="limit",
        quantity="10",
        limit_price="100.50",
        time_in_force="gtc",
    )
    order_id = resting.json()["order_id"]
    await oms.settle()
    await bob.place(symbol="ABC", side="buy", type="limit", quantity="4", limit_price="101")
    await oms.settle()
    assert (await alice.call("DELETE", f"/api/orders/{order_id}")).status == 202
    await oms.settle()

    reply = await alice.call("GET", f"/api/orders/{order_id}/events")

    assert reply.status == 200, reply.body
    items = reply.json()["items"]
    assert [(e["order_seq"], e["kind"], e["status"]) for e in items] == [
        (1, "order_accepted", "new"),
        (2, "order_filled", "partially_filled"),
        (3, "order_canceled", "canceled"),
    ]
    assert items[0]["fields"] == {
        "side": "sell",
        "order_type": "limit",
        "quantity": "10",
        "price": "100.5",
        "stop_price": None,
        "leaves_qty": "10",
        "held_qty": "0",
        # the market it arrived at: an empty book, no trade yet, not a paper order
        "bid_px": None,
        "ask_px": None,
        "last_trade_px": None,
        "ref_px": None,
    }
    fill = items[1]["fields"]
    assert (fill["last_qty"], fill["last_px"], fill["leaves_qty"], fill["cum_qty"]) == (
        "4",
        "100.5",
        "6",
        "4",
    )
    assert (fill["liquidity"], fill["fee"]) == ("maker", "0")
    assert items[2]["fields"]["canceled_qty"] == "6"
    assert items[2]["fields"]["reason"] == "CANCELED_BY_CLIENT"
    seqs = [e["seq"] for e in items]
    assert seqs == sorted(seqs)
    # Each event says when the matcher ran the command behind it.
    assert all(e["processed_at"] and e["ts"] for e in items)

    # A redelivered batch stores nothing twice.
    for batch in oms.pump.batches:
        await projector.project_batch(oms.container, batch)
    again = await alice.call("GET", f"/api/orders/{order_id}/events")
    assert again.json()["items"] == items

    # Another account's order has no history for bob.
    hidden = await bob.call("GET", f"/api/orders/{order_id}/events")
    assert hidden.status == 404 and hidden.json()["reason"] == "ORDER_NOT_FOUND"
    assert (await alice.call("GET", "/api/orders/nope/events")).status == 404
