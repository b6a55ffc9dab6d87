"""Orders that may only reduce a position: the kill switch's `reducing` state and
`reduce_only` orders both count the account's open orders on the reducing side, so several
orders together can never flip the position."""

from __future__ import annotations

from typing import Any

from shared.domain.enums import TradingState
from shared.services import admin, instrument_admin
from tests.support.oms import Client, Oms, Transport

SELL = {"symbol": "ABC", "side": "sell", "type": "limit", "limit_price": "101"}


async def long_position(oms: Oms, transport: Transport, lots: int) -> tuple[Client, str]:
    """An account holding `lots` of ABC (bought from another account)."""
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    alice_id, alice_key = await oms.add_account("alice")
    _, bob_key = await oms.add_account("bob")
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)
    sold = await bob.place(**{**SELL, "limit_price": "100", "quantity": str(lots)})
    bought = await alice.place(
        symbol="ABC", side="buy", type="limit", limit_price="100", quantity=str(lots)
    )
    assert (sold.status, bought.status) == (202, 202)
    await oms.settle()
    positions = (await alice.call("GET", "/api/positions")).json()["items"]
    assert [(p["symbol"], p["net_quantity"]) for p in positions] == [("ABC", str(lots))]
    return alice, alice_id


async def sells(client: Client, count: int, quantity: str, **extra: Any) -> list[Any]:
    return [(await client.place(**SELL, quantity=quantity, **extra)) for _ in range(count)]


async def test_a_reducing_account_may_not_sell_its_position_three_times(
    oms: Oms, functions_transport: Transport
) -> None:
    alice, alice_id = await long_position(oms, functions_transport, 10)
    await admin.set_account_state(oms.container, alice_id, TradingState.REDUCING, "test")

    replies = await sells(alice, 3, "10")

    assert [r.status for r in replies] == [202, 422, 422]
    assert {r.json()["reason"] for r in replies[1:]} == {"ACCOUNT_REDUCING_ONLY"}
    assert replies[1].json()["field"] == "quantity"
    # What is left of the position may still be sold once the first order is gone.
    first = replies[0].json()["order_id"]
    assert (await alice.call("DELETE", f"/api/orders/{first}")).status == 202
    await oms.settle()
    assert (await alice.place(**SELL, quantity="4")).status == 202
    assert (await alice.place(**SELL, quantity="6")).status == 202
    assert (await alice.place(**SELL, quantity="1")).json()["reason"] == "ACCOUNT_REDUCING_ONLY"


async def test_a_reducing_instrument_counts_the_open_orders_of_the_account_too(
    oms: Oms, functions_transport: Transport
) -> None:
    alice, _ = await long_position(oms, functions_transport, 10)
    await instrument_admin.set_instrument_state(oms.container, "ABC", TradingState.REDUCING, "test")

    replies = await sells(alice, 3, "5")

    assert [r.status for r in replies] == [202, 202, 422]
    assert replies[2].json()["reason"] == "INSTRUMENT_REDUCING_ONLY"


async def test_reduce_only_orders_together_never_exceed_the_position(
    oms: Oms, functions_transport: Transport
) -> None:
    alice, _ = await long_position(oms, functions_transport, 10)

    first = await alice.place(**SELL, quantity="6", reduce_only=True)
    too_much = await alice.place(**SELL, quantity="5", reduce_only=True)
    wrong_side = await alice.place(
        symbol="ABC", side="buy", type="limit", limit_price="99", quantity="1", reduce_only=True
    )
    plain = await alice.place(**SELL, quantity="10")  # not reduce-only: not counted
    rest = await alice.place(**SELL, quantity="4", reduce_only=True)

    assert first.status == 202 and first.json()["reduce_only"] is True
    assert (too_much.status, too_much.json()["reason"], too_much.json()["field"]) == (
        422,
        "REDUCE_ONLY_WOULD_INCREASE",
        "quantity",
    )
    assert (wrong_side.json()["reason"], wrong_side.json()["field"]) == (
        "REDUCE_ONLY_WOULD_INCREASE",
        "side",
    )
    assert (plain.status, rest.status) == (202, 202)

    bigger = await alice.call(
        "PATCH", f"/api/orders/{first.json()['order_id']}", json={"quantity": "7"}
    )
    smaller = await alice.call(
        "PATCH", f"/api/orders/{first.json()['order_id']}", json={"quantity": "5"}
    )
    assert (bigger.json()["reason"], bigger.json()["field"]) == (
        "REDUCE_ONLY_WOULD_INCREASE",
        "quantity",
    )
    assert smaller.status == 202


async def test_without_a_position_a_reduce_only_order_is_refused(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("flat")
    reply = await Client(functions_transport, key).place(**SELL, quantity="1", reduce_only=True)
    assert (reply.status, reply.json()["reason"], reply.json()["field"]) == (
        422,
        "REDUCE_ONLY_WOULD_INCREASE",
        "side",
    )


async def test_a_reducing_account_may_protect_its_position_with_an_oco_but_not_open_a_bracket(
    oms: Oms, functions_transport: Transport
) -> None:
    alice, alice_id = await long_position(oms, functions_transport, 10)
    await admin.set_account_state(oms.container, alice_id, TradingState.REDUCING, "test")
    exits = {"take_profit": {"limit_price": "105"}, "stop_loss": {"stop_price": "95"}}

    oco = await alice.place(
        symbol="ABC", side="sell", type="limit", quantity="10", order_class="oco", **exits
    )
    bracket = await alice.place(
        symbol="ABC",
        side="sell",
        type="limit",
        quantity="5",
        limit_price="100",
        order_class="bracket",
        take_profit={"limit_price": "95"},
        stop_loss={"stop_price": "105"},
    )

    assert oco.status == 202, oco.body
    assert (bracket.json()["reason"], bracket.json()["field"]) == (
        "ACCOUNT_REDUCING_ONLY",
        "order_class",
    )
