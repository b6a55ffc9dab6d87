"""Resetting a paper account over the admin API: its open orders canceled, its positions
flattened on the simulated market (journaled orders like any), its starting cash back,
once per reset id, audited."""

from __future__ import annotations

from shared.domain.enums import AccountType
from tests.support.oms import Client, Oms, Transport


async def test_a_reset_cancels_flattens_and_restores_the_starting_cash(
    oms: Oms, transport: Transport
):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100", taker_fee_cbps=1_000)
    paper_id, paper_key = await oms.add_account("paper", AccountType.PAPER)
    live_id, _ = await oms.add_account("live")
    trader, admin = Client(transport, paper_key), Client(transport, oms.admin_key)
    bought = await trader.place(
        symbol="ABC", side="buy", type="market", quantity="10", time_in_force="ioc"
    )
    assert bought.status == 202, bought.body
    resting = await trader.place(
        symbol="ABC",
        side="buy",
        type="limit",
        quantity="5",
        limit_price="95",
        time_in_force="gtc",
    )
    await oms.settle()
    before = (await trader.call("GET", "/api/account")).json()
    # 10 bought on the paper market at its reference price (100.00) with a 10 bps fee.
    assert (before["cash"], before["long_market_value"]) == ("98999", "1000")
    oms.clock.advance(30)  # the paper market moves on before the reset

    path = f"/api/admin/accounts/{paper_id}/reset"
    started = await admin.call("POST", path, json={"reset_id": "r1", "wait_seconds": 0})
    assert started.status == 202, started.body
    assert (started.json()["status"], started.json()["canceled_orders"]) == ("flattening", 1)
    assert len(started.json()["flattening_orders"]) == 1
    await oms.settle()  # the matcher cancels and fills the flattening order
    done = await admin.call("POST", path, json={"reset_id": "r1", "wait_seconds": 0})

    assert done.status == 200, done.body
    report = done.json()
    assert report["status"] == "done" and report["positions_left"] == {}
    assert report["cash_entry"]["kind"] == "reset"
    after = (await trader.call("GET", "/api/account")).json()
    assert (after["cash"], after["equity"], after["long_market_value"]) == (
        "100000",
        "100000",
        "0",
    )
    order = (await trader.call("GET", f"/api/orders/{resting.json()['order_id']}")).json()
    assert (order["status"], order["reject_reason"]) == ("canceled", "CANCELED_BY_RESET")
    flatten = (await trader.call("GET", "/api/orders", params={"status": "filled"})).json()
    assert {o["client_order_id"] for o in flatten["items"]} >= {"reset-r1-ABC"}

    # Once per reset id: again, nothing moves.
    again = await admin.call("POST", path, json={"reset_id": "r1", "wait_seconds": 0})
    assert again.json()["cash_entry"] == report["cash_entry"]
    ledger = (await admin.call("GET", f"/api/admin/accounts/{paper_id}/cash")).json()["items"]
    assert [e["kind"] for e in ledger] == ["reset"]
    trail = await admin.call("GET", "/api/admin/audit", params={"action": "account.reset"})
    (entry,) = trail.json()["items"]
    assert entry["target_id"] == paper_id and entry["after"]["cash"] == "100000"
    live = await admin.call("POST", f"/api/admin/accounts/{live_id}/reset", json={})
    assert live.status == 422 and live.json()["reason"] == "NOT_A_PAPER_ACCOUNT"
