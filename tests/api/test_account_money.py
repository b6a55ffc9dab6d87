"""An account's money over the API, worked by hand: deposits, two trades between two
accounts with maker and taker fees, cash, market value, equity, buying power, P&L, the
cash settling T+1 or by hand, and every admin action in the audit trail.

Instrument ABC: tick 0.01, lot 1, maker fee 5 bps, taker fee 10 bps, T+1. Both accounts
are cash accounts (credit limit 0) with 10,000.00 deposited.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from shared.services import balances, cash, limits
from shared.services.errors import Conflict
from tests.support.oms import Client, Oms, Transport

DAY = 86_400 * 10**9


async def money(client: Client) -> dict[str, str]:
    reply = await client.call("GET", "/api/account")
    assert reply.status == 200, reply.body
    body: dict[str, str] = reply.json()
    return body


async def test_cash_equity_buying_power_and_pnl_follow_every_fill_and_fee(
    oms: Oms, transport: Transport
):
    oms.clock.now = time.time_ns() // DAY * DAY + 12 * 3_600 * 10**9  # noon UTC today
    await oms.add_instrument(
        "ABC", "0.01", "1", reference_price="100", maker_fee_cbps=500, taker_fee_cbps=1_000
    )
    alice_id, alice_key = await oms.add_account("alice", credit_limit=Decimal(0))
    bob_id, bob_key = await oms.add_account("bob", credit_limit=Decimal(0))
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)
    admin = Client(transport, oms.admin_key)
    for account_id in (alice_id, bob_id):
        deposit = {"kind": "deposit", "amount": "10000.00", "entry_id": f"dep-{account_id}"}
        reply = await admin.call("POST", f"/api/admin/accounts/{account_id}/cash", json=deposit)
        assert reply.status == 201, reply.body
        assert reply.json()["balance"] == "10000"
        again = await admin.call("POST", f"/api/admin/accounts/{account_id}/cash", json=deposit)
        assert again.json()["seq"] == 1  # the same entry, once
    reused = await admin.call(
        "POST",
        f"/api/admin/accounts/{bob_id}/cash",
        json={"kind": "deposit", "amount": "5", "entry_id": f"dep-{bob_id}"},
    )
    assert reused.status == 409 and reused.json()["reason"] == "CASH_ENTRY_REUSED"
    assert (await money(bob))["cash"] == "10000"

    # Trade 1: alice rests a sell of 10 at 100.00 (maker), bob takes 4 (taker).
    resting = await alice.place(
        symbol="ABC",
        side="sell",
        type="limit",
        quantity="10",
        limit_price="100",
        time_in_force="gtc",
    )
    await oms.settle()
    await bob.place(symbol="ABC", side="buy", type="limit", quantity="4", limit_price="100")
    await oms.settle()
    # bob paid 400.00 and a 0.40 fee (10 bps); alice got 400.00 less 0.20 (5 bps).
    # alice's 6 left rest: 600.00 of open orders against her buying power.
    a = await money(alice)
    assert (a["cash"], a["short_market_value"], a["equity"]) == ("10399.8", "-400", "9999.8")
    assert (a["open_order_notional"], a["buying_power"]) == ("600", "8999.8")
    assert (await alice.call("DELETE", f"/api/orders/{resting.json()['order_id']}")).status == 202
    await oms.settle()

    # Trade 2: bob rests a sell of 2 at 101.00 (maker); alice buys them (taker).
    await bob.place(
        symbol="ABC",
        side="sell",
        type="limit",
        quantity="2",
        limit_price="101",
        time_in_force="gtc",
    )
    await oms.settle()
    await alice.place(symbol="ABC", side="buy", type="limit", quantity="2", limit_price="101")
    await oms.settle()

    # bob: long 4 at 100, sold 2 at 101: realized 2 x 1.00 = 2.00; 2 left cost 200.00, at
    # the last trade (101) worth 202.00, unrealized 2.00. Fees 0.40 + 0.101 (5 bps of
    # 202). Cash 10,000 - 400 + 202 - 0.501 = 9,801.499; equity 9,801.499 + 202 =
    # 10,003.499 (= 10,000 + 2 + 2 - 0.501). Buying power: 10,003.499 - 202.
    b = await money(bob)
    assert b == b | {
        "currency": "USD",
        "cash": "9801.499",
        "long_market_value": "202",
        "short_market_value": "0",
        "equity": "10003.499",
        "open_order_notional": "0",
        "buying_power": "9801.499",
        "realized_pnl": "2",
        "unrealized_pnl": "2",
        "fees": "0.501",
        "net_pnl": "1.499",
        "pnl_today": "3.499",
        "net_deposits": "10000",
        "starting_cash": "0",
    }
    # T+1: none of today's fills has settled: -400.40 + 201.899 = -198.501 unsettled.
    assert (b["unsettled_cash"], b["settled_cash"]) == ("-198.501", "10000")
    # alice: short 4 at 100, bought 2 back at 101: realized -2.00; short 2 (cost -200.00)
    # worth -202.00, unrealized -2.00; fees 0.20 + 0.202; cash 10,000 + 400 - 202 - 0.402.
    a = await money(alice)
    assert (a["cash"], a["equity"], a["realized_pnl"], a["unrealized_pnl"]) == (
        "10197.598",
        "9995.598",
        "-2",
        "-2",
    )
    assert (a["fees"], a["pnl_today"], a["buying_power"]) == ("0.402", "-4.402", "9793.598")

    positions = (await bob.call("GET", "/api/positions")).json()["items"]
    assert [p["symbol"] for p in positions] == ["ABC"]
    assert positions[0] == positions[0] | {
        "net_quantity": "2",
        "average_entry_price": "100",
        "cost_basis": "200",
        "mark_price": "101",
        "mark_source": "last_trade",
        "market_value": "202",
        "unrealized_pnl": "2",
        "realized_pnl": "2",
        "fees": "0.501",
        "net_pnl": "1.499",
        "unsettled_cash": "-198.501",
    }

    # Settling trade 1 by hand moves its cash (both sides) from unsettled to settled.
    executions = (await bob.call("GET", "/api/executions")).json()["items"]
    first = next(e for e in executions if e["side"] == "buy")
    assert first["settled"] is False and first["settlement_date"]
    path = f"/api/admin/trades/{first['trade_id']}/settle"
    settled = await admin.call("POST", path)
    assert settled.status == 200, settled.body
    assert {e["account_id"]: e["settled"] for e in settled.json()["executions"]} == {
        alice_id: True,
        bob_id: True,
    }
    assert (await admin.call("POST", path)).status == 200  # again: nothing more moves
    b = await money(bob)
    assert (b["cash"], b["unsettled_cash"], b["settled_cash"]) == (
        "9801.499",
        "201.899",
        "9599.6",
    )
    assert (await admin.call("POST", "/api/admin/trades/ABC-T999/settle")).status == 404

    # Only settled cash can be withdrawn.
    too_much = {"kind": "withdrawal", "amount": "9599.61", "entry_id": "w-1"}
    refused = await admin.call("POST", f"/api/admin/accounts/{bob_id}/cash", json=too_much)
    assert refused.status == 409 and refused.json()["reason"] == "INSUFFICIENT_CASH"
    withdrawal = {"kind": "withdrawal", "amount": "99.6", "entry_id": "w-2", "note": "fees"}
    taken = await admin.call("POST", f"/api/admin/accounts/{bob_id}/cash", json=withdrawal)
    assert taken.status == 201 and taken.json()["balance"] == "9900.4"
    assert (await money(bob))["settled_cash"] == "9500"
    ledger = (await admin.call("GET", f"/api/admin/accounts/{bob_id}/cash")).json()["items"]
    assert [(e["kind"], e["amount"]) for e in ledger] == [
        ("withdrawal", "-99.6"),
        ("deposit", "10000"),
    ]

    # Every admin action is in the audit trail, with who did it and before and after.
    trail = await admin.call("GET", "/api/admin/audit", params={"target_id": bob_id})
    actions = [e["action"] for e in trail.json()["items"]]
    assert actions == ["cash.withdrawal", "cash.deposit", "account.created"]
    deposit_entry = trail.json()["items"][1]
    assert deposit_entry["actor"] == "admin"
    assert (deposit_entry["before"]["cash"], deposit_entry["after"]["cash"]) == ("0", "10000")
    settle_entries = await admin.call("GET", "/api/admin/audit", params={"action": "trade.settled"})
    assert [e["target_id"] for e in settle_entries.json()["items"]] == [first["trade_id"]]
    assert (await bob.call("GET", "/api/admin/audit")).status == 403


async def test_the_risk_checks_buying_power_is_the_one_the_account_shows(
    oms: Oms, transport: Transport
):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100", taker_fee_cbps=1_000)
    await oms.add_instrument("XYZ", "0.5", "10", reference_price="20")
    long_id, long_key = await oms.add_account("long", credit_limit=Decimal(5_000))
    _, short_key = await oms.add_account("short", credit_limit=Decimal(5_000))
    longs, shorts = Client(transport, long_key), Client(transport, short_key)
    limit = {"type": "limit", "time_in_force": "gtc"}
    await shorts.place(symbol="ABC", side="sell", quantity="7", limit_price="100", **limit)
    await shorts.place(symbol="XYZ", side="buy", quantity="30", limit_price="20.5", **limit)
    await oms.settle()
    await longs.place(symbol="ABC", side="buy", quantity="7", limit_price="100", **limit)
    await longs.place(symbol="XYZ", side="sell", quantity="20", limit_price="20", **limit)
    await oms.settle()
    await longs.place(symbol="ABC", side="buy", quantity="1", limit_price="90", **limit)

    container = oms.container
    for account in await container.store.accounts.list_accounts():
        if account.name not in ("long", "short"):
            continue
        now = container.clock()
        shown = await balances.account_money(container, account, now)
        positions = await container.store.positions.list_positions(account.account_id)
        before = await balances.power_before_orders(container, account, now, positions, {})
        ledger = await container.store.risk.get(account.account_id)
        assert ledger is not None  # every account here has placed an order
        assert limits.buying_power_left(ledger, before) == shown.buying_power
    shown_long = (await longs.call("GET", "/api/account")).json()
    # long 7 ABC (cash -700.70, fee included) and short 20 XYZ sold at the bid's 20.50
    # (+410), marked there: 5,000 - 700.70 + 410 - 2 x 410 (the short counts in equity and
    # in gross value) - 90 (the open bid) = 3,799.30
    assert (shown_long["buying_power"], shown_long["account_id"]) == ("3799.3", long_id)
    # The check takes an order's share of exactly that: 3,800 does not fit, 3,700 does.
    too_much = await longs.place(
        symbol="ABC", side="buy", quantity="38", limit_price="100", **limit
    )
    assert too_much.json()["reason"] == "INSUFFICIENT_BUYING_POWER"
    fits = await longs.place(symbol="ABC", side="buy", quantity="37", limit_price="100", **limit)
    assert fits.status == 202
    after = (await longs.call("GET", "/api/account")).json()
    assert (after["buying_power"], after["open_order_notional"]) == ("99.3", "3790")


async def test_two_withdrawals_racing_cannot_take_more_than_the_settled_cash(oms: Oms):
    account_id, _ = await oms.add_account("saver")
    account = await oms.container.store.accounts.get(account_id)
    assert account is not None
    await cash.move_cash(oms.container, account, cash.DEPOSIT, Decimal(10_000), "d", "admin")

    results = await asyncio.gather(
        *(
            cash.move_cash(oms.container, account, cash.WITHDRAWAL, Decimal(6_000), f"w{n}", "a")
            for n in range(2)
        ),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 1 and refused[0].reason == "INSUFFICIENT_CASH"
    assert await balances.ledger_balance(oms.container, account_id) == Decimal(4_000)
