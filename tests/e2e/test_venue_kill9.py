"""`kill -9` the local run (its gateway holds the FIX venue) in the middle of an order, let
the venue fill while it is down, start it again on the same data: the FIX session resumes
(no sequence reset), the venue resends what we missed, reconciliation runs, and every fill
counts exactly once; an order placed just before the kill reaches the venue once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_kill9 import ADMIN_KEY, LocalRunProcess, Trader, new_trader
from tests.support.fix_exchange import FixExchange, eventually

pytestmark = pytest.mark.timeout(300)

ADMIN = {"X-API-Key": ADMIN_KEY}


async def venue_state(http: httpx.AsyncClient, url: str) -> str:
    listed = await http.get(f"{url}/api/admin/venues", headers=ADMIN)
    (venue,) = listed.json()["items"]
    return str(venue["state"])


async def order(http: httpx.AsyncClient, url: str, trader: Trader, order_id: str) -> Any:
    return (await http.get(f"{url}/api/orders/{order_id}", headers=trader.headers)).json()


async def fills(http: httpx.AsyncClient, url: str, trader: Trader, order_id: str) -> list[str]:
    items = (await http.get(f"{url}/api/executions", headers=trader.headers)).json()["items"]
    return sorted(f["quantity"] for f in items if f["order_id"] == order_id)


async def test_the_gateway_killed_mid_order_recovers_every_fill_once(tmp_path: Path) -> None:
    exchange = await FixExchange(tmp_path / "exchange", target="OMS-K9").start()
    run = LocalRunProcess(tmp_path / "data", tmp_path / "localrun.log")
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            run.start()
            await run.wait_healthy(http, timeout=60)
            url = run.url
            body = {
                "name": "k9",
                "kind": "fix",
                "host": "127.0.0.1",
                "port": exchange.fix_port,
                "sender_comp_id": "OMS-K9",
                "target_comp_id": "EXCH",
                "heartbeat_seconds": 5,
            }
            created = await http.post(f"{url}/api/admin/venues", json=body, headers=ADMIN)
            assert created.status_code == 201, created.text
            await eventually(lambda: _is(venue_state(http, url), "connected"), timeout=60)
            trader = await new_trader(http, url, "k9-desk")
            routed = await http.patch(
                f"{url}/api/admin/accounts/{trader.account_id}", json={"venue": "k9"}, headers=ADMIN
            )
            assert routed.status_code == 200, routed.text

            async def place(quantity: str) -> str:
                body = {"symbol": "AAPL", "side": "buy", "type": "limit", "quantity": quantity,
                        "limit_price": "190.00", "time_in_force": "gtc"}  # fmt: skip
                placed = await http.post(f"{url}/api/orders", json=body, headers=trader.headers)
                assert placed.status_code == 202, placed.text
                return str(placed.json()["order_id"])

            a = await place("10")
            await eventually(lambda: _known(exchange, a), timeout=30)
            await exchange.post("/fill", cl_ord_id=a, quantity="4", price="189.90")
            await eventually(
                lambda: _field(order(http, url, trader, a), "filled_quantity", "4"), timeout=30
            )
            b = await place("5")  # and the local run dies right after the 202
            run.kill9()

            # While we are down the venue fills the rest of A (and B, if it got there).
            await exchange.post("/fill", cl_ord_id=a, quantity="6", price="189.80")
            b_reached = await _known(exchange, b)
            if b_reached:
                await exchange.post("/fill", cl_ord_id=b, quantity="2", price="189.70")

            run.start()
            await run.wait_healthy(http, timeout=60)
            await eventually(lambda: _is(venue_state(http, url), "connected"), timeout=60)
            await eventually(
                lambda: _field(order(http, url, trader, a), "status", "filled"), timeout=60
            )
            assert await fills(http, url, trader, a) == ["4", "6"]
            shown = await order(http, url, trader, a)
            assert Decimal(shown["average_fill_price"]) == Decimal("189.84")

            # B reaches the venue exactly once (sent before the kill, or resent after it).
            await eventually(lambda: _known(exchange, b), timeout=60)
            await exchange.post("/fill", cl_ord_id=b, quantity="5", price="189.60")
            await eventually(
                lambda: _field(order(http, url, trader, b), "status", "filled"), timeout=60
            )
            assert await fills(http, url, trader, b) == (["2", "3"] if b_reached else ["5"])
            at_venue = [o for o in (await exchange.state())["orders"] if o["cl_ord_id"] == b]
            assert len(at_venue) == 1 and at_venue[0]["cum_qty"] == "5"
        finally:
            run.stop()
            await exchange.stop()


async def _is(state: Any, expected: str) -> bool:
    return bool(await state == expected)


async def _field(view: Any, name: str, expected: str) -> bool:
    return bool((await view).get(name) == expected)


async def _known(exchange: FixExchange, cl_ord_id: str) -> bool:
    try:
        await exchange.order(cl_ord_id)
    except KeyError:
        return False
    return True
