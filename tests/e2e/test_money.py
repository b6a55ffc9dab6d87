"""Money on the whole local run, over HTTP: two accounts trade, then their account,
positions, an order's analytics and an order's audit trail answer the figures worked out by
hand below.

Instrument MNY1: tick 0.01, lot 1, maker fee 5 bps, taker fee 10 bps, T+1. Both accounts are
cash accounts (credit limit 0) with 10,000.00 deposited. The seller rests 10 at 50.00, the
buyer takes 4: the buyer pays 200.00 and a 0.20 fee, the seller gets 200.00 less 0.10.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.support import Account, LocalOms

SYMBOL = "MNY1"


async def _get(oms: LocalOms, account: Account, path: str) -> Any:
    response = await oms.http.get(path, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _until(oms: LocalOms, account: Account, path: str, ready: Any) -> Any:
    for _ in range(400):
        body = await _get(oms, account, path)
        if ready(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never got there: {body}")


async def test_two_accounts_trade_and_their_money_is_right(local_oms: LocalOms) -> None:
    oms = local_oms
    admin = {"X-API-Key": oms.keys.admin}
    instrument = {
        "symbol": SYMBOL,
        "tick_size": "0.01",
        "lot_size": "1",
        "reference_price": "50",
        "maker_fee_cbps": 500,
        "taker_fee_cbps": 1000,
    }
    created = await oms.http.post("/api/admin/instruments", json=instrument, headers=admin)
    assert created.status_code == 201, created.text
    accounts = []
    for name in ("e2e-seller", "e2e-buyer"):
        body = {"name": name, "type": "live", "risk_limits": {"credit_limit": "0"}}
        made = await oms.http.post("/api/admin/accounts", json=body, headers=admin)
        account = Account(made.json()["account"]["account_id"], made.json()["api_key"])
        deposit = {"kind": "deposit", "amount": "10000", "entry_id": f"e2e-{name}"}
        moved = await oms.http.post(
            f"/api/admin/accounts/{account.account_id}/cash", json=deposit, headers=admin
        )
        assert moved.status_code == 201, moved.text
        accounts.append(account)
    seller, buyer = accounts

    sell = await oms.place(seller, SYMBOL, "sell", "10", "50")
    await _until(oms, seller, f"/api/orders/{sell['order_id']}", lambda o: o["status"] == "new")
    buy = await oms.place(buyer, SYMBOL, "buy", "4", "50")
    await _until(oms, buyer, f"/api/orders/{buy['order_id']}", lambda o: o["status"] == "filled")
    # the matcher's published mark (the last trade, 50.00) reaches the account's valuation
    positions = await _until(
        oms,
        buyer,
        "/api/positions",
        lambda b: b["items"] and b["items"][0]["mark_source"] == "last_trade",
    )

    mine = await _get(oms, buyer, "/api/account")
    assert mine == mine | {
        "cash": "9799.8",
        "long_market_value": "200",
        "short_market_value": "0",
        "equity": "9999.8",
        "buying_power": "9799.8",
        "realized_pnl": "0",
        "unrealized_pnl": "0",
        "fees": "0.2",
        "pnl_today": "-0.2",
        "unsettled_cash": "-200.2",
        "settled_cash": "10000",
    }
    theirs = await _get(oms, seller, "/api/account")
    # short 4 worth -200.00; the 6 still resting hold 300.00 of buying power
    assert theirs == theirs | {
        "cash": "10199.9",
        "short_market_value": "-200",
        "equity": "9999.9",
        "open_order_notional": "300",
        "buying_power": "9499.9",
        "fees": "0.1",
    }
    (position,) = positions["items"]
    assert position == position | {
        "symbol": SYMBOL,
        "net_quantity": "4",
        "average_entry_price": "50",
        "cost_basis": "200",
        "mark_price": "50",
        "market_value": "200",
        "unrealized_pnl": "0",
        "fees": "0.2",
    }

    quality = await _get(oms, buyer, f"/api/orders/{buy['order_id']}/analytics")
    assert quality == quality | {
        "status": "filled",
        "venue": "internal",
        "fill_rate": "1",
        "average_fill_price": "50",
        "fees": "0.2",
    }
    latency = quality["latency_ms"]
    assert all(latency[k] is not None for k in ("accept", "first_fill", "complete"))
    assert 0 <= float(latency["accept"]) <= float(latency["complete"]) < 60_000

    history = await _get(oms, seller, f"/api/orders/{sell['order_id']}/events")
    assert [(e["order_seq"], e["kind"], e["status"]) for e in history["items"]] == [
        (1, "order_accepted", "new"),
        (2, "order_filled", "partially_filled"),
    ]
    fill = history["items"][1]["fields"]
    assert (fill["last_qty"], fill["last_px"], fill["liquidity"], fill["fee"]) == (
        "4",
        "50",
        "maker",
        "0.1",
    )
    assert all(e["processed_at"] for e in history["items"])
    hidden = await oms.http.get(f"/api/orders/{sell['order_id']}/events", headers=buyer.headers)
    assert hidden.status_code == 404
