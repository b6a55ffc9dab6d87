"""The buying power rule in the risk check: equity + credit limit - gross market value -
open orders; an order that can only reduce the position needs none."""

from __future__ import annotations

from decimal import Decimal

from tests.support.oms import Client, Oms, Transport


async def test_a_cash_account_buys_up_to_its_cash_and_can_always_sell_what_it_holds(
    oms: Oms, transport: Transport
):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    buyer_id, buyer_key = await oms.add_account("buyer", credit_limit=Decimal(0))
    _, seller_key = await oms.add_account("seller")
    buyer, seller = Client(transport, buyer_key), Client(transport, seller_key)
    admin = Client(transport, oms.admin_key)
    deposit = {"kind": "deposit", "amount": "1000", "entry_id": "d1"}
    assert (
        await admin.call("POST", f"/api/admin/accounts/{buyer_id}/cash", json=deposit)
    ).status == 201
    limit = {"symbol": "ABC", "type": "limit", "limit_price": "100", "time_in_force": "gtc"}

    first = await buyer.place(side="buy", quantity="6", **limit)
    # 600.00 of the 1,000.00 is held by the open order: 400.00 left, not 500.00.
    refused = await buyer.place(side="buy", quantity="5", **limit)
    assert first.status == 202 and refused.status == 422
    assert (refused.json()["reason"], refused.json()["field"]) == (
        "INSUFFICIENT_BUYING_POWER",
        "quantity",
    )
    assert (await buyer.place(side="buy", quantity="4", **limit)).status == 202
    await oms.settle()
    await seller.place(side="sell", quantity="10", **limit)
    await oms.settle()
    account = (await buyer.call("GET", "/api/account")).json()
    assert (account["cash"], account["long_market_value"], account["buying_power"]) == (
        "0",
        "1000",
        "0",
    )

    # Nothing left to buy with, but selling what it holds only reduces the position.
    assert (await buyer.place(side="buy", quantity="1", **limit)).status == 422
    assert (await buyer.place(side="sell", quantity="10", **limit)).status == 202
    assert (await buyer.place(side="sell", quantity="1", **limit)).status == 422  # a short
    preview = await buyer.call(
        "POST", "/api/orders/preview", json={"side": "buy", "quantity": "1", **limit}
    )
    assert [f["reason"] for f in preview.json()["failures"]] == ["INSUFFICIENT_BUYING_POWER"]
