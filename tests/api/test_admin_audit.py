"""Every admin action is stored with its actor, time, and the thing before and after, and
listed newest first with filters and a cursor."""

from __future__ import annotations

from tests.support.oms import Client, Oms, Transport


async def test_account_instrument_and_kill_switch_changes_are_audited(
    oms: Oms, transport: Transport
):
    admin = Client(transport, oms.admin_key)
    created = await admin.call(
        "POST",
        "/api/admin/instruments",
        json={
            "symbol": "BTC-USD",
            "tick_size": "0.5",
            "lot_size": "0.0001",
            "asset_class": "crypto",
        },
    )
    assert created.status == 201, created.body
    assert (created.json()["settlement_days"], created.json()["currency"]) == (0, "USD")
    changed = await admin.call(
        "PATCH",
        "/api/admin/instruments/BTC-USD",
        json={"settlement_days": 2, "taker_fee_cbps": 250},
    )
    assert changed.json()["settlement_days"] == 2
    account = await admin.call(
        "POST", "/api/admin/accounts", json={"name": "carol", "type": "paper"}
    )
    account_id = account.json()["account"]["account_id"]
    assert account.json()["account"]["starting_cash"] == "100000"
    await admin.call(
        "PATCH",
        f"/api/admin/accounts/{account_id}",
        json={"risk_limits": {"credit_limit": "0"}},
    )
    await admin.call(
        "POST",
        "/api/admin/trading-state",
        json={"scope": "account", "account_id": account_id, "state": "halted"},
    )
    await admin.call(
        "POST", "/api/admin/trading-state", json={"scope": "global", "state": "reducing"}
    )

    page = await admin.call("GET", "/api/admin/audit", params={"limit": 3})
    rest = await admin.call(
        "GET", "/api/admin/audit", params={"limit": 3, "cursor": page.json()["next_cursor"]}
    )

    entries = page.json()["items"] + rest.json()["items"]
    assert [e["action"] for e in entries] == [
        "kill_switch.global",
        "kill_switch.account",
        "account.changed",
        "account.created",
        "instrument.changed",
        "instrument.created",
    ]
    assert all(e["actor"] == "admin" and e["at"] for e in entries)
    limits = entries[2]
    assert limits["before"]["risk_limits"]["credit_limit"] == "1000000"
    assert limits["after"]["risk_limits"]["credit_limit"] == "0"
    assert entries[1]["before"] == {"trading_state": "active"}
    assert entries[1]["after"] == {"trading_state": "halted"}
    instrument = entries[4]
    assert (instrument["before"]["settlement_days"], instrument["after"]["settlement_days"]) == (
        0,
        2,
    )
    assert entries[5]["before"] is None and entries[5]["after"]["asset_class"] == "crypto"
    only = await admin.call(
        "GET",
        "/api/admin/audit",
        params={"target_type": "instrument", "action": "instrument.changed"},
    )
    assert [e["target_id"] for e in only.json()["items"]] == ["BTC-USD"]
    bad = await admin.call("GET", "/api/admin/audit", params={"cursor": "nope"})
    assert bad.status == 400 or bad.json()["reason"] == "INVALID_CURSOR"
