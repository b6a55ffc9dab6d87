"""Paper controls on the whole local run, over HTTP: an admin gives a paper account 20 bps
of slippage and the instrument a replayed price file (50.00); the account's next market
orders fill 20 bps away from that reference price, to the cent, and the order's audit trail
and analytics show the reference price it arrived at."""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, Decimal
from typing import Any

from tests.e2e.support import Account, LocalOms

SYMBOL = "PPR1"


async def _until(oms: LocalOms, account: Account, path: str, ready: Any) -> Any:
    body = None
    for _ in range(400):
        response = await oms.http.get(path, headers=account.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if ready(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never got there: {body}")


async def _market(oms: LocalOms, account: Account, side: str, quantity: str) -> dict[str, Any]:
    body = {"symbol": SYMBOL, "side": side, "type": "market", "quantity": quantity}
    placed = await oms.http.post("/api/orders", json=body, headers=account.headers)
    assert placed.status_code == 202, placed.text
    path = f"/api/orders/{placed.json()['order_id']}"
    await _until(oms, account, path, lambda o: o["status"] == "filled")
    quality: dict[str, Any] = await _until(
        oms, account, f"{path}/analytics", lambda q: q["average_fill_price"] is not None
    )
    return quality


async def test_a_paper_account_at_20_bps_fills_20_bps_from_the_reference(
    local_oms: LocalOms,
) -> None:
    oms = local_oms
    admin = {"X-API-Key": oms.keys.admin}
    instrument = {"symbol": SYMBOL, "tick_size": "0.01", "lot_size": "1", "reference_price": "50"}
    created = await oms.http.post("/api/admin/instruments", json=instrument, headers=admin)
    assert created.status_code == 201, created.text
    trader = await oms.new_account("e2e-paper", "paper")

    # The seeded walk (the default source), 20 bps: a buy pays its reference price plus
    # 20 bps, rounded up to the cent.
    patch = {"simulator": {"slippage_bps": "20"}}
    changed = await oms.http.patch(
        f"/api/admin/accounts/{trader.account_id}", json=patch, headers=admin
    )
    assert changed.status_code == 200, changed.text
    walked = await _market(oms, trader, "buy", "5")
    reference = Decimal(walked["arrival_price"])
    cent = Decimal("0.01")
    slipped = (reference * Decimal("1.002") / cent).to_integral_value(ROUND_CEILING) * cent
    assert Decimal(walked["average_fill_price"]) == slipped
    events = await _until(
        oms, trader, f"/api/orders/{walked['order_id']}/events", lambda e: e["items"]
    )
    accepted = events["items"][0]
    assert accepted["kind"] == "order_accepted"
    assert Decimal(accepted["fields"]["ref_px"]) == reference

    # A replayed price file at 50.00: exactly 50.10 for a buy and 49.90 for a sale.
    prices = {"source": "file", "prices": [{"at": "2000-01-01T00:00:00Z", "price": "50.00"}]}
    replayed = await oms.http.put(
        f"/api/admin/instruments/{SYMBOL}/reference-prices", json=prices, headers=admin
    )
    assert replayed.status_code == 200, replayed.text
    # The matcher takes the new source in queue order: before this account's next order.
    bought = await _market(oms, trader, "buy", "3")
    sold = await _market(oms, trader, "sell", "3")

    assert (bought["arrival_price"], bought["average_fill_price"]) == ("50", "50.1")
    assert (sold["arrival_price"], sold["average_fill_price"]) == ("50", "49.9")
    assert bought["slippage_bps"] == sold["slippage_bps"] == "20"
