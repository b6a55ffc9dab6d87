"""Contingent groups through the real matching engine, as the API shows them: a held
bracket follows its entry's replace and ends with its cancel; canceling an exit ends the
whole bracket; a trailing stop shows where its stop has moved and its new trail."""

from __future__ import annotations

from typing import Any

from tests.api.test_groups import BRACKET, trader
from tests.support.oms import Client, Oms, Transport


async def order(client: Client, order_id: str) -> dict[str, Any]:
    reply = await client.call("GET", f"/api/orders/{order_id}")
    assert reply.status == 200, reply.body
    shown: dict[str, Any] = reply.json()
    return shown


def shape(view: dict[str, Any]) -> tuple[Any, ...]:
    return (
        view["status"],
        view["quantity"],
        view["leaves_quantity"],
        view["held_quantity"],
        view["canceled_quantity"],
    )


async def test_a_held_bracket_follows_its_entrys_replace_and_cancel(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    entry = (await client.place(**BRACKET)).json()["order_id"]
    await oms.settle()
    placed = await order(client, entry)
    assert shape(placed) == ("new", "10", "10", "0", "0")
    assert [shape(leg) for leg in placed["legs"]] == [("held", "10", "0", "10", "0")] * 2

    smaller = await client.call("PATCH", f"/api/orders/{entry}", json={"quantity": "6"})
    assert smaller.status == 202, smaller.body
    await oms.settle()
    replaced = await order(client, entry)
    assert shape(replaced) == ("new", "6", "6", "0", "0")
    assert [shape(leg) for leg in replaced["legs"]] == [("held", "6", "0", "6", "0")] * 2

    assert (await client.call("DELETE", f"/api/orders/{entry}")).status == 202
    await oms.settle()
    canceled = await order(client, entry)
    assert shape(canceled) == ("canceled", "6", "0", "0", "6")
    assert [(leg["status"], leg["reject_reason"]) for leg in canceled["legs"]] == [
        ("canceled", "PARENT_CANCELED")
    ] * 2


async def test_canceling_a_brackets_exit_ends_the_whole_bracket(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    placed = (await client.place(**BRACKET)).json()
    await oms.settle()
    take_profit = placed["legs"][0]["order_id"]

    assert (await client.call("DELETE", f"/api/orders/{take_profit}")).status == 202
    await oms.settle()

    ended = await order(client, placed["order_id"])
    assert ended["status"] == "canceled"
    assert [leg["status"] for leg in ended["legs"]] == ["canceled", "canceled"]
    assert all(o["leaves_quantity"] == o["held_quantity"] == "0" for o in (ended, *ended["legs"]))


async def test_a_trailing_stop_shows_its_stop_following_the_trades(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    _, other_key = await oms.add_account("other")
    other = Client(functions_transport, other_key)
    stop = (
        await client.place(
            symbol="ABC",
            side="sell",
            type="trailing_stop",
            quantity="1",
            trail_amount="2",
            time_in_force="gtc",
        )
    ).json()["order_id"]
    for price in ("100", "103"):  # two trades between two other accounts
        await other.place(symbol="ABC", side="sell", type="limit", quantity="1", limit_price=price)
        _, key = await oms.add_account(f"taker-{price}")
        taker = Client(functions_transport, key)
        await taker.place(symbol="ABC", side="buy", type="limit", quantity="1", limit_price=price)
        await oms.settle()

    shown = await order(client, stop)
    assert (shown["status"], shown["high_water_mark"], shown["stop_price"]) == ("new", "103", "101")

    # A new trail moves the stop from the same high-water mark, and the order shows it.
    retrail = await client.call("PATCH", f"/api/orders/{stop}", json={"trail_amount": "1"})
    assert retrail.status == 202, retrail.body
    await oms.settle()
    shown = await order(client, stop)
    assert (shown["trail_amount"], shown["high_water_mark"], shown["stop_price"]) == (
        "1",
        "103",
        "102",
    )


async def test_once_the_entry_filled_a_stop_loss_may_move_past_it_to_keep_a_gain(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    _, seller_key = await oms.add_account("seller")
    seller = Client(functions_transport, seller_key)
    placed = (await client.place(**BRACKET)).json()  # buy 10 at 100, stop-loss at 97
    stop_loss = placed["legs"][1]["order_id"]
    sold = await seller.place(
        symbol="ABC", side="sell", type="limit", quantity="10", limit_price="100"
    )
    assert sold.status == 202
    await oms.settle()
    assert (await order(client, placed["order_id"]))["status"] == "filled"

    past_take_profit = await client.call(
        "PATCH", f"/api/orders/{stop_loss}", json={"stop_price": "106"}
    )
    past_entry = await client.call("PATCH", f"/api/orders/{stop_loss}", json={"stop_price": "101"})

    assert (past_take_profit.status, past_take_profit.json()["field"]) == (422, "stop_price")
    assert past_entry.status == 202, past_entry.body
