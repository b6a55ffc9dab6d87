"""Paper controls over the admin API: a paper account's fill simulator (slippage, size
impact, latency, partial fills) set by PATCH /api/admin/accounts/{id}, validated field by
field, audited with before and after, and applied to the account's next orders."""

from __future__ import annotations

from shared.domain.enums import AccountType
from shared.services import projector
from tests.support.oms import Client, Oms, Transport


async def test_slippage_set_by_an_admin_applies_to_the_next_orders(oms: Oms, transport: Transport):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    paper_id, paper_key = await oms.add_account("paper", AccountType.PAPER)
    trader, admin = Client(transport, paper_key), Client(transport, oms.admin_key)
    market = {"symbol": "ABC", "type": "market", "quantity": "2", "time_in_force": "ioc"}
    before = await trader.place(side="buy", **market)
    await oms.settle()

    path = f"/api/admin/accounts/{paper_id}"
    changed = await admin.call("PATCH", path, json={"simulator": {"slippage_bps": "20"}})
    assert changed.status == 200, changed.body
    assert changed.json()["simulator"] == {
        "slippage_bps": "20",
        "impact_bps_per_lot": None,
        "latency_ms": None,
        "partial_fills": {"fill_ratio_pct": None, "interval_ms": None},
    }
    bought = await trader.place(side="buy", **market)
    sold = await trader.place(side="sell", **market)
    await oms.settle()

    def analytics(reply):
        return trader.call("GET", f"/api/orders/{reply.json()['order_id']}/analytics")

    first, buy, sale = [(await analytics(r)).json() for r in (before, bought, sold)]
    # The reference price is 100.00 throughout (the clock did not move): the order placed
    # before the change fills at it, the next ones 20 bps away: 100.20 and 99.80.
    assert (first["arrival_price"], first["average_fill_price"]) == ("100", "100")
    assert (buy["arrival_price"], buy["average_fill_price"], buy["slippage_bps"]) == (
        "100",
        "100.2",
        "20",
    )
    assert (sale["average_fill_price"], sale["slippage_bps"]) == ("99.8", "20")

    trail = await admin.call("GET", "/api/admin/audit", params={"target_id": paper_id})
    entry = trail.json()["items"][0]
    assert (entry["action"], entry["actor"]) == ("account.changed", "admin")
    assert entry["before"]["simulator"]["slippage_bps"] is None
    assert entry["after"]["simulator"]["slippage_bps"] == "20"

    # Fields are changed one by one; null goes back to the instrument's default.
    more = {"simulator": {"latency_ms": "1.5", "partial_fills": {"fill_ratio_pct": 25}}}
    again = (await admin.call("PATCH", path, json=more)).json()["simulator"]
    assert (again["slippage_bps"], again["latency_ms"]) == ("20", "1.5")
    assert again["partial_fills"] == {"fill_ratio_pct": 25, "interval_ms": None}
    reset = await admin.call("PATCH", path, json={"simulator": {"slippage_bps": None}})
    assert reset.json()["simulator"]["slippage_bps"] is None
    assert reset.json()["simulator"]["latency_ms"] == "1.5"


async def test_bad_simulator_settings_are_refused_naming_the_field(oms: Oms, transport: Transport):
    paper_id, _ = await oms.add_account("paper", AccountType.PAPER)
    live_id, _ = await oms.add_account("live")
    admin = Client(transport, oms.admin_key)
    path = f"/api/admin/accounts/{paper_id}"

    cases = [
        ({"slippage_bps": "0.001"}, "simulator.slippage_bps", "INVALID_VALUE"),
        ({"slippage_bps": "10001"}, "simulator.slippage_bps", "INVALID_VALUE"),
        ({"impact_bps_per_lot": "-1"}, "simulator.impact_bps_per_lot", None),
        ({"latency_ms": "0.0000001"}, "simulator.latency_ms", "INVALID_VALUE"),
        ({"partial_fills": {"fill_ratio_pct": 0}}, "simulator.partial_fills.fill_ratio_pct", None),
        ({"partial_fills": {"interval_ms": "x"}}, "simulator.partial_fills.interval_ms", None),
        ({"slippage": "1"}, "simulator.slippage", None),
        ({}, "simulator", "NOTHING_TO_CHANGE"),
    ]
    for simulator, field, reason in cases:
        refused = await admin.call("PATCH", path, json={"simulator": simulator})
        assert refused.status == 422, (simulator, refused.body)
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert problem["field"] == field, (simulator, problem)
        if reason:
            assert problem["reason"] == reason
    live = await admin.call(
        "PATCH", f"/api/admin/accounts/{live_id}", json={"simulator": {"slippage_bps": "1"}}
    )
    assert live.status == 422 and live.json()["reason"] == "NOT_A_PAPER_ACCOUNT"
    assert live.json()["field"] == "simulator"
    unchanged = (await admin.call("GET", path)).json()["simulator"]
    assert unchanged["slippage_bps"] is None


async def test_a_replayed_price_file_is_the_paper_markets_reference(oms: Oms, transport: Transport):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    paper_id, paper_key = await oms.add_account("paper", AccountType.PAPER)
    trader, admin = Client(transport, paper_key), Client(transport, oms.admin_key)
    path = "/api/admin/instruments/ABC/reference-prices"
    points = [
        {"at": "2000-01-01T00:00:00Z", "price": "50.00"},
        {"at": "2100-01-01T00:00:00Z", "price": "60.00"},
    ]
    replaced = await admin.call("PUT", path, json={"source": "file", "prices": points})
    assert replaced.status == 200, replaced.body
    assert replaced.json()["reference_source"]["source"] == "file"
    assert replaced.json()["reference_source"]["points"] == 2
    await oms.settle()
    await admin.call(
        "PATCH", f"/api/admin/accounts/{paper_id}", json={"simulator": {"slippage_bps": "20"}}
    )
    bought = await trader.place(
        symbol="ABC", side="buy", type="market", quantity="3", time_in_force="ioc"
    )
    await oms.settle()

    quality = (
        await trader.call("GET", f"/api/orders/{bought.json()['order_id']}/analytics")
    ).json()
    # 50.00 from the file, 20 bps above it: 50.10
    assert (quality["arrival_price"], quality["average_fill_price"]) == ("50", "50.1")
    trail = await admin.call(
        "GET", "/api/admin/audit", params={"action": "instrument.reference_source"}
    )
    (entry,) = trail.json()["items"]
    assert (entry["before"]["source"], entry["after"]["source"]) == ("walk", "file")

    back = await admin.call("PUT", path, json={"source": "walk", "seed": 7, "step_ms": 500})
    assert back.json()["reference_source"] == back.json()["reference_source"] | {
        "source": "walk",
        "seed": 7,
        "step_ticks": 1,
        "step_ms": 500,
    }
    refusals = [
        ({"source": "file"}, "prices"),
        ({"source": "file", "prices": points, "seed": 1}, "seed"),
        ({"source": "walk", "prices": points}, "prices"),
        ({"source": "file", "prices": [points[1], points[0]]}, "prices[1].at"),
        ({"source": "file", "prices": [{"at": points[0]["at"], "price": "50.001"}]}, None),
        ({"source": "walk", "start_price": "0"}, "start_price"),
        ({"source": "file", "prices": [{"at": "1969-12-31T23:59:59Z", "price": "1"}]}, None),
        ({"source": "file", "prices": [{"at": "9999-01-01T00:00:00Z", "price": "1"}]}, None),
        ({"source": "moon"}, "source"),
    ]
    for body, field in refusals:
        refused = await admin.call("PUT", path, json=body)
        assert refused.status == 422, (body, refused.body)
        if field:
            assert refused.json()["field"] == field, (body, refused.json())


async def test_shadow_mode_compares_the_simulated_fills_with_the_real_ones(
    oms: Oms, transport: Transport
):
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, alice_key = await oms.add_account("alice")
    bob_id, bob_key = await oms.add_account("bob")
    paper_id, _ = await oms.add_account("paper", AccountType.PAPER)
    alice, bob = Client(transport, alice_key), Client(transport, bob_key)
    admin = Client(transport, oms.admin_key)
    on = await admin.call("PATCH", f"/api/admin/accounts/{bob_id}", json={"shadow": True})
    assert on.status == 200 and on.json()["shadow"] is True
    await alice.place(symbol="ABC", side="sell", type="limit", quantity="5", limit_price="100.5")
    await oms.settle()
    bought = await bob.place(symbol="ABC", side="buy", type="market", quantity="2")
    rests = await bob.place(symbol="ABC", side="buy", type="limit", quantity="3", limit_price="99")
    await oms.settle()

    def analytics(reply):
        return bob.call("GET", f"/api/orders/{reply.json()['order_id']}/analytics")

    real = (await analytics(bought)).json()
    # Real: 2 at 100.50 from alice. The copy on the simulator: 2 at its reference price,
    # 100.00 (no slippage configured), at the same command time: the simulator would have
    # cost (100.00 - 100.50) / 100.50 = -49.75 bps.
    assert real["average_fill_price"] == "100.5"
    assert real["shadow"] == {
        "simulated": {
            "average_fill_price": "100",
            "filled_quantity": "2",
            "fees": "0",
            "first_fill_ms": "0",
            "complete_ms": "0",
        },
        "real": {"first_fill_ms": "0", "complete_ms": "0"},
        "price_difference_bps": "-49.75",
        "quantity_difference": "0",
        "first_fill_difference_ms": "0",
    }
    resting = (await analytics(rests)).json()["shadow"]
    assert resting["simulated"]["filled_quantity"] == "0"
    assert resting["quantity_difference"] == "0" and resting["price_difference_bps"] is None

    (group,) = (await bob.call("GET", "/api/analytics")).json()["items"]
    assert group["shadow"] == group["shadow"] | {"orders": 2, "quantity_difference": "0"}
    assert group["shadow"]["price_difference_bps"]["p50"] == "-49.75"
    # A redelivered batch applies nothing twice.
    for batch in oms.pump.batches:
        await projector.project_batch(oms.container, batch)
    assert (await analytics(bought)).json()["shadow"] == real["shadow"]

    trail = await admin.call("GET", "/api/admin/audit", params={"target_id": bob_id})
    entry = trail.json()["items"][0]
    assert (entry["before"]["shadow"], entry["after"]["shadow"]) == (False, True)
    paper = await admin.call("PATCH", f"/api/admin/accounts/{paper_id}", json={"shadow": True})
    assert paper.status == 422 and paper.json()["reason"] == "ACCOUNT_NOT_LIVE"
    assert paper.json()["field"] == "shadow"
    unflagged = (await alice.call("GET", "/api/analytics")).json()["items"][0]
    assert unflagged["shadow"] is None
