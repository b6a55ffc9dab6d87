"""Orders at an external FIX venue through the whole local run (issue #18): the API, the
instrument's worker and its outbox, the in-process gateway, QuickFIX over real TCP to the
exchange simulator in its own process, and the venue's reports back through the matcher and
the projector to the API. Each case ends with every fill counted exactly once."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.feed_client import PyClient
from tests.e2e.support import Account, LocalOms
from tests.support.fix_exchange import FixExchange, eventually

pytestmark = pytest.mark.timeout(240)  # QuickFIX threads: a hang fails with its stacks

_n = itertools.count(1)


class Venue:
    def __init__(self, oms: LocalOms, exchange: FixExchange, name: str) -> None:
        self.oms, self.exchange, self.name = oms, exchange, name
        self.admin = {"X-API-Key": oms.keys.admin}

    async def state(self) -> str:
        listed = await self.oms.http.get("/api/admin/venues", headers=self.admin)
        (venue,) = [v for v in listed.json()["items"] if v["name"] == self.name]
        return str(venue["state"])

    async def trader(self) -> Account:
        account = await self.oms.new_account(f"{self.name}-desk-{next(_n)}")
        routed = await self.oms.http.patch(
            f"/api/admin/accounts/{account.account_id}",
            json={"venue": self.name},
            headers=self.admin,
        )
        assert routed.status_code == 200, routed.text
        return account


@pytest.fixture
async def venue(local_oms: LocalOms, tmp_path: Path) -> AsyncIterator[Venue]:
    n = next(_n)
    ours = f"OMS-V{n}"
    exchange = await FixExchange(tmp_path / "exchange", target=ours).start()
    body = {
        "name": f"fixv{n}",
        "kind": "fix",
        "host": "127.0.0.1",
        "port": exchange.fix_port,
        "sender_comp_id": ours,
        "target_comp_id": "EXCH",
        "heartbeat_seconds": 5,
    }
    headers = {"X-API-Key": local_oms.keys.admin}
    created = await local_oms.http.post("/api/admin/venues", json=body, headers=headers)
    assert created.status_code == 201, created.text
    v = Venue(local_oms, exchange, f"fixv{n}")
    try:
        await eventually(lambda: _equals(v.state, "connected"), timeout=60)
        yield v
    finally:
        await exchange.stop()


async def _equals(get: Any, expected: object) -> bool:
    return bool(await get() == expected)


async def order_of(oms: LocalOms, account: Account, order_id: str) -> dict[str, Any]:
    reply = await oms.http.get(f"/api/orders/{order_id}", headers=account.headers)
    assert reply.status_code == 200, reply.text
    order: dict[str, Any] = reply.json()
    return order


async def until(
    oms: LocalOms, account: Account, order_id: str, timeout: float = 30, **expected: object
) -> dict[str, Any]:
    """Wait until the order shows every expected field; the order as last seen."""
    seen: dict[str, Any] = {}

    async def check() -> bool:
        seen.update(await order_of(oms, account, order_id))
        return all(seen.get(k) == v for k, v in expected.items())

    try:
        await eventually(check, timeout=timeout)
    except AssertionError as error:
        raise AssertionError(f"{order_id}: wanted {expected}, last seen {seen}") from error
    return seen


async def fills_of(oms: LocalOms, account: Account, order_id: str) -> list[dict[str, Any]]:
    reply = await oms.http.get("/api/executions", headers=account.headers)
    assert reply.status_code == 200, reply.text
    return [f for f in reply.json()["items"] if f["order_id"] == order_id]


async def at_venue(exchange: FixExchange, cl_ord_id: str) -> None:
    async def known() -> bool:
        try:
            await exchange.order(cl_ord_id)
        except KeyError:
            return False
        return True

    await eventually(known, timeout=30)


async def test_new_fills_cancel_replace_and_rejects_at_a_fix_venue(
    local_oms: LocalOms, venue: Venue
) -> None:
    oms, exchange = local_oms, venue.exchange
    trader = await venue.trader()

    # New, a partial fill, the rest: filled once each, at the venue's prices.
    a = (await oms.place(trader, "AAPL", "buy", "10", "190.00"))["order_id"]
    await at_venue(exchange, a)
    await until(oms, trader, a, status="new")
    await exchange.post("/fill", cl_ord_id=a, quantity="4", price="189.50")
    await until(oms, trader, a, status="partially_filled", filled_quantity="4")
    await exchange.post("/fill", cl_ord_id=a, quantity="6", price="189.75")
    shown = await until(oms, trader, a, status="filled", filled_quantity="10")
    assert Decimal(shown["average_fill_price"]) == Decimal("189.65")
    assert sorted(f["quantity"] for f in await fills_of(oms, trader, a)) == ["4", "6"]

    # Cancel: the venue cancels, the order ends canceled by its owner.
    b = (await oms.place(trader, "AAPL", "buy", "5", "180.00"))["order_id"]
    await at_venue(exchange, b)
    await until(oms, trader, b, status="new")
    assert (await oms.http.delete(f"/api/orders/{b}", headers=trader.headers)).status_code < 300
    shown = await until(oms, trader, b, status="canceled")
    assert shown["reject_reason"] == "CANCELED_BY_CLIENT"
    assert (await exchange.order(f"{b}.1"))["status"] == "4"

    # Replace: a new quantity and price at the venue, along the ClOrdID chain.
    c = (await oms.place(trader, "AAPL", "buy", "5", "181.00"))["order_id"]
    await at_venue(exchange, c)
    await until(oms, trader, c, status="new")
    patch = {"quantity": "8", "limit_price": "182.00"}
    replaced = await oms.http.patch(f"/api/orders/{c}", json=patch, headers=trader.headers)
    assert replaced.status_code < 300, replaced.text
    await until(oms, trader, c, status="new", quantity="8", limit_price="182")
    assert (await exchange.order(f"{c}.1"))["quantity"] == "8"

    # The venue rejects a new order: its text reaches the client.
    await exchange.post("/arm", action="reject_new", text="price outside the band")
    d = (await oms.place(trader, "AAPL", "buy", "1", "185.00"))["order_id"]
    shown = await until(oms, trader, d, status="rejected")
    assert (shown["reject_reason"], shown["reject_text"]) == (
        "VENUE_REJECTED",
        "price outside the band",
    )

    # The venue refuses a cancel: the order keeps working, with the reason and the text.
    await exchange.post("/arm", action="reject_cancel", text="too late to cancel")
    assert (await oms.http.delete(f"/api/orders/{c}", headers=trader.headers)).status_code < 300
    shown = await until(oms, trader, c, status="new", reject_reason="VENUE_REJECTED")
    assert shown["reject_text"] == "too late to cancel"
    await exchange.post("/fill", cl_ord_id=f"{c}.1", quantity="8")
    await until(oms, trader, c, status="filled", filled_quantity="8")
    assert len(await fills_of(oms, trader, c)) == 1


async def test_fills_during_an_outage_and_resent_reports_count_once(
    local_oms: LocalOms, venue: Venue
) -> None:
    oms, exchange = local_oms, venue.exchange
    trader = await venue.trader()
    working = (await oms.place(trader, "AAPL", "sell", "10", "195.00"))["order_id"]
    await at_venue(exchange, working)
    await until(oms, trader, working, status="new")

    # The venue drops the connection and fills while we are away.
    await exchange.post("/drop", refuse_logon=True)
    await eventually(lambda: _equals(venue.state, "disconnected"), timeout=30)
    await exchange.post("/fill", cl_ord_id=working, quantity="3", price="195.10")
    await exchange.post("/fill", cl_ord_id=working, quantity="2", price="195.20")
    await exchange.post("/allow")
    await eventually(lambda: _equals(venue.state, "connected"), timeout=60)
    await until(oms, trader, working, status="partially_filled", filled_quantity="5")
    assert sorted(f["quantity"] for f in await fills_of(oms, trader, working)) == ["2", "3"]
    # Admins were told the venue went down and came back (the audit, and the admin feed).
    reply = await oms.http.get(
        "/api/admin/audit", params={"target_id": venue.name, "target_type": "venue"},
        headers=venue.admin,
    )  # fmt: skip
    told = [e["action"] for e in reversed(reply.json()["items"])]
    assert [a for a in told if a != "venue.defined"] == [
        "venue.connected", "venue.disconnected", "venue.connected",
    ]  # fmt: skip

    # The venue sends every report of the order again, flagged PossDup, then PossResend.
    await exchange.post("/duplicate", cl_ord_id=working, flag="poss_dup")
    await exchange.post("/duplicate", cl_ord_id=working, flag="poss_resend")
    await exchange.post("/fill", cl_ord_id=working, quantity="5", price="195.30")
    await until(oms, trader, working, status="filled", filled_quantity="10")
    fills = await fills_of(oms, trader, working)
    assert sorted(f["quantity"] for f in fills) == ["2", "3", "5"]
    assert (await exchange.order(working))["cum_qty"] == "10"


async def test_an_order_the_venue_knows_and_we_do_not_is_reported_to_admins(
    local_oms: LocalOms, venue: Venue
) -> None:
    watcher = PyClient.of(local_oms, local_oms.admin)  # signalrcore, the admin's account
    await watcher.start()
    try:
        joined = await local_oms.http.post("/api/admin/subscriptions", json={}, headers=venue.admin)
        assert joined.status_code == 200, joined.text
        foreign = await venue.exchange.post(
            "/foreign", symbol="AAPL", side="buy", quantity="7", price="150"
        )

        def alerted(got: list[tuple[str, dict[str, Any]]]) -> bool:
            return any(
                t == "auditRecorded"
                and e["data"]["action"] == "venue.unknown_venue_order"
                and e["data"]["target_id"] == foreign["cl_ord_id"]
                for t, e in got
            )

        got = await watcher.until(alerted, timeout=30)  # live, on the admin feed ...
        (live,) = [e["data"] for t, e in got if alerted([(t, e)])]
        assert live["actor"] == f"venue:{venue.name}"
        reply = await local_oms.http.get(
            "/api/admin/audit", params={"action": "venue.unknown_venue_order"},
            headers=venue.admin,
        )  # fmt: skip
        stored = [e for e in reply.json()["items"] if e["target_id"] == foreign["cl_ord_id"]]
        assert stored == [live]  # ... and in the audit trail, once
    finally:
        watcher.stop()


async def test_a_halt_cancels_at_the_venue_orders_whose_replace_or_new_it_has_not_answered(
    local_oms: LocalOms, venue: Venue
) -> None:
    oms, exchange = local_oms, venue.exchange
    symbol = f"HLT{next(_n)}"
    instrument = {"symbol": symbol, "tick_size": "0.01", "lot_size": "1", "reference_price": "50"}
    created = await oms.http.post("/api/admin/instruments", json=instrument, headers=venue.admin)
    assert created.status_code == 201, created.text
    trader = await venue.trader()
    working = (await oms.place(trader, symbol, "buy", "10", "50.00"))["order_id"]
    replacing = (await oms.place(trader, symbol, "buy", "5", "49.00"))["order_id"]
    for order_id in (working, replacing):
        await at_venue(exchange, order_id)
        await until(oms, trader, order_id, status="new")

    # The venue is slow: it has not read a replace, nor a new order, when the halt comes.
    await exchange.post("/arm", action="hold_replace")
    patch = {"quantity": "8", "limit_price": "49.50"}
    sent = await oms.http.patch(f"/api/orders/{replacing}", json=patch, headers=trader.headers)
    assert sent.status_code < 300, sent.text
    await exchange.post("/arm", action="hold_new")
    unacknowledged = (await oms.place(trader, symbol, "buy", "3", "48.00"))["order_id"]
    await eventually(lambda: _held(exchange, [f"{replacing}.1", unacknowledged]), timeout=30)
    halt = {"scope": "instrument", "symbol": symbol, "state": "halted"}
    halted = await oms.http.post("/api/admin/trading-state", json=halt, headers=venue.admin)
    assert halted.status_code in (200, 202), halted.text

    # The order with nothing pending is canceled at once.
    shown = await until(oms, trader, working, status="canceled")
    assert shown["reject_reason"] == "CANCELED_BY_HALT"
    assert (await exchange.order(f"{working}.1"))["status"] == "4"
    assert (await exchange.order(replacing))["status"] == "0"  # its cancel waits

    # The venue reads what it held: the replace is answered, then the cancel goes; the new
    # order (whose first cancel the venue refused: it did not know it yet) is acknowledged,
    # then canceled again.
    assert (await exchange.post("/release"))["released"] == 2
    shown = await until(oms, trader, replacing, status="canceled", quantity="8")
    assert (shown["reject_reason"], shown["limit_price"]) == ("CANCELED_BY_HALT", "49.5")
    shown = await until(oms, trader, unacknowledged, status="canceled")
    assert shown["reject_reason"] == "CANCELED_BY_HALT"

    # Nothing of the instrument stays working at the venue.
    async def none_open() -> bool:
        orders = (await exchange.state())["orders"]
        mine = [o for o in orders if o["symbol"] == symbol]
        return len(mine) == 3 and all(o["status"] == "4" for o in mine)

    await eventually(none_open, timeout=30)
    assert await fills_of(oms, trader, replacing) == []


async def _held(exchange: FixExchange, cl_ord_ids: list[str]) -> bool:
    return bool((await exchange.state())["held"] == cl_ord_ids)
