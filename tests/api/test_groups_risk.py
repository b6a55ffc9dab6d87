"""Contingent groups and reduce-only orders in the account's risk ledger: a group takes its
share as a whole (an open and a daily order per order, buying power for its head only),
its exits never hold buying power a second time for the position the entry opens, and a
group that ends gives back everything it took."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.support.oms import Client, Oms, Transport

LIMIT: dict[str, Any] = {"symbol": "ABC", "type": "limit", "time_in_force": "gtc"}


def bracket(quantity: str, client_order_id: str) -> dict[str, Any]:
    return {
        **LIMIT,
        "side": "buy",
        "quantity": quantity,
        "limit_price": "100",
        "order_class": "bracket",
        "client_order_id": client_order_id,
        "take_profit": {"limit_price": "110"},
        "stop_loss": {"stop_price": "90"},
    }


async def ledger_of(oms: Oms, account_id: str) -> tuple[int, str]:
    ledger = await oms.container.store.risk.get(account_id)
    assert ledger is not None
    return ledger.open_orders, format(ledger.open_notional.normalize(), "f")


async def cash_trader(oms: Oms, transport: Transport, cash: str) -> tuple[str, Client]:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    account_id, key = await oms.add_account("trader", credit_limit=Decimal(0))
    admin = Client(transport, oms.admin_key)
    deposit = {"kind": "deposit", "amount": cash, "entry_id": "d1"}
    reply = await admin.call("POST", f"/api/admin/accounts/{account_id}/cash", json=deposit)
    assert reply.status == 201, reply.body
    return account_id, Client(transport, key)


async def test_a_brackets_exits_hold_no_buying_power_of_their_own(
    oms: Oms, transport: Transport
) -> None:
    account_id, trader = await cash_trader(oms, transport, "1000")
    _, seller_key = await oms.add_account("seller")
    seller = Client(transport, seller_key)

    # 600 of the 1,000 for the entry; the exits (600 + 600 more if they held their worth)
    # would take it past the cash.
    first = await trader.place(**bracket("6", "b1"))
    assert first.status == 202, first.body
    assert await ledger_of(oms, account_id) == (3, "600")
    refused = await trader.place(**bracket("5", "b2"))  # 400 left
    assert (refused.status, refused.json()["reason"]) == (422, "INSUFFICIENT_BUYING_POWER")
    assert await ledger_of(oms, account_id) == (3, "600")  # a refusal takes nothing

    # The entry fills: its buying power goes into the position; the exits go live and still
    # hold none, so what is left to buy with is the cash left (400), not less.
    assert (await seller.place(**LIMIT, side="sell", quantity="6", limit_price="100")).status == 202
    await oms.settle()
    assert await ledger_of(oms, account_id) == (2, "0")
    account = (await trader.call("GET", "/api/account")).json()
    assert account["buying_power"] == "400"
    assert (await trader.place(**LIMIT, side="buy", quantity="5", limit_price="100")).status == 422
    assert (await trader.place(**LIMIT, side="buy", quantity="4", limit_price="100")).status == 202


async def test_a_group_that_ends_gives_back_everything_it_took(
    oms: Oms, transport: Transport
) -> None:
    account_id, trader = await cash_trader(oms, transport, "1000")
    placed = await trader.place(**bracket("6", "b1"))
    assert placed.status == 202, placed.body
    await oms.settle()
    assert await ledger_of(oms, account_id) == (3, "600")

    entry = placed.json()["order_id"]
    assert (await trader.call("DELETE", f"/api/orders/{entry}")).status == 202
    await oms.settle()

    # The entry canceled, its held exits with it (PARENT_CANCELED): nothing open, nothing held.
    assert await ledger_of(oms, account_id) == (0, "0")
    again = await trader.place(**bracket("10", "b3"))  # the whole 1,000 is free again
    assert again.status == 202, again.body


async def test_a_reduce_only_order_holds_no_buying_power(oms: Oms, transport: Transport) -> None:
    account_id, trader = await cash_trader(oms, transport, "1000")
    _, seller_key = await oms.add_account("seller")
    seller = Client(transport, seller_key)
    assert (
        await seller.place(**LIMIT, side="sell", quantity="10", limit_price="100")
    ).status == 202
    assert (await trader.place(**LIMIT, side="buy", quantity="10", limit_price="100")).status == 202
    await oms.settle()
    assert await ledger_of(oms, account_id) == (0, "0")

    exit_ = {**LIMIT, "side": "sell", "quantity": "10", "limit_price": "105", "reduce_only": True}
    placed = await trader.place(**exit_)
    assert placed.status == 202, placed.body
    assert await ledger_of(oms, account_id) == (1, "0")
    # A second one would exceed the position with the first: refused, whole.
    again = await trader.place(**{**exit_, "quantity": "1"})
    assert (again.status, again.json()["reason"]) == (422, "REDUCE_ONLY_WOULD_INCREASE")
    assert await ledger_of(oms, account_id) == (1, "0")
