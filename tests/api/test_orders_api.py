"""Idempotent retries, pagination, the kill switch, admin, auth and request limits."""

from __future__ import annotations

import base64
import json

import orjson

from shared.domain.enums import OrderStatus
from tests.support.oms import Client, Oms, Transport

BUY = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "1", "limit_price": "99"}
SELL = {"symbol": "ABC", "side": "sell", "type": "limit", "quantity": "1", "limit_price": "101"}


async def setup(oms: Oms, transport: Transport) -> tuple[Client, Client, Client, str, str]:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    await oms.add_instrument("XYZ", "0.5", "10", reference_price="50")
    alice_id, alice_key = await oms.add_account("alice")
    bob_id, bob_key = await oms.add_account("bob")
    admin = Client(transport, oms.admin_key)
    return Client(transport, alice_key), Client(transport, bob_key), admin, alice_id, bob_id


async def test_same_idempotency_key_and_body_returns_the_same_order_once(
    oms: Oms, transport: Transport
):
    alice, *_ = await setup(oms, transport)
    key = {"Idempotency-Key": "retry-1"}
    first = await alice.place(**BUY, headers=key)
    second = await alice.place(**BUY, headers=key)
    assert (first.status, second.status) == (202, 202)
    assert second.json() == first.json()
    assert "idempotent-replayed" not in first.headers  # the first answer is no replay
    assert second.headers.get("idempotent-replayed") == "true"
    assert len((await alice.call("GET", "/api/orders")).json()["items"]) == 1

    other = await alice.place(**{**BUY, "quantity": "2"}, headers=key)
    assert (other.status, other.json()["reason"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert len((await alice.call("GET", "/api/orders")).json()["items"]) == 1


async def test_client_that_timed_out_finds_its_order_by_client_order_id(
    oms: Oms, transport: Transport
):
    alice, bob, *_ = await setup(oms, transport)
    first = await alice.place(**BUY, client_order_id="c-1")
    retry = await alice.place(**BUY, client_order_id="c-1")
    assert (retry.status, retry.json()["reason"]) == (409, "DUPLICATE_CLIENT_ORDER_ID")
    found = await alice.call("GET", "/api/orders/by-client-id/c-1")
    assert found.json()["order_id"] == first.json()["order_id"]
    # Another account may use the same client order id: ids are per account.
    assert (await bob.place(**BUY, client_order_id="c-1")).status == 202


async def test_replaced_client_order_id_stays_taken(oms: Oms, transport: Transport):
    alice, *_ = await setup(oms, transport)
    order_id = (await alice.place(**BUY, client_order_id="old")).json()["order_id"]
    await oms.settle()
    patch = await alice.call("PATCH", f"/api/orders/{order_id}", json={"client_order_id": "new"})
    assert patch.status == 202
    await oms.settle()
    reuse = await alice.place(**BUY, client_order_id="old")
    assert (reuse.status, reuse.json()["reason"]) == (409, "DUPLICATE_CLIENT_ORDER_ID")
    # ... and still finds the order that carried it.
    found = await alice.call("GET", "/api/orders/by-client-id/old")
    assert found.status == 200, found.body
    shown = found.json()
    assert (shown["order_id"], shown["client_order_id"]) == (order_id, "new")
    assert shown["previous_client_order_ids"] == ["old"]
    assert (await alice.call("GET", "/api/orders/by-client-id/never")).status == 404


async def test_order_list_pages_with_a_cursor_and_filters(oms: Oms, transport: Transport):
    alice, bob, *_ = await setup(oms, transport)
    placed = []
    for i in range(7):
        order = BUY if i % 2 else SELL
        placed.append((await alice.place(**order)).json()["order_id"])
    await bob.place(**BUY)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await alice.call("GET", "/api/orders", params=params)).json()
        seen += [o["order_id"] for o in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(placed))  # newest first, each once, only alice's
    sells = await alice.call("GET", "/api/orders", params={"side": "sell", "limit": 100})
    assert len(sells.json()["items"]) == 4
    await oms.settle()
    new = await alice.call("GET", "/api/orders", params={"status": ["new"], "symbol": "ABC"})
    assert len(new.json()["items"]) == 7
    none = await alice.call("GET", "/api/orders", params={"symbol": "XYZ"})
    assert none.json() == {"items": [], "next_cursor": None}

    too_big = await alice.call("GET", "/api/orders", params={"limit": 501})
    assert (too_big.status, too_big.json()["field"]) == (422, "limit")
    bad = await alice.call("GET", "/api/orders", params={"cursor": "not-a-cursor"})
    assert (bad.status, bad.json()["reason"]) == (422, "INVALID_CURSOR")


async def test_account_kill_switch_cancels_resting_orders_and_refuses_new_ones(
    oms: Oms, transport: Transport
):
    alice, bob, admin, alice_id, _ = await setup(oms, transport)
    resting = (await alice.place(**BUY)).json()["order_id"]
    bobs = (await bob.place(**SELL)).json()["order_id"]
    await oms.settle()

    halt = {"scope": "account", "account_id": alice_id, "state": "halted"}
    reply = await admin.call("POST", "/api/admin/trading-state", json=halt)
    assert reply.json() == {"scope": "account", "target": alice_id, "state": "halted"}
    await oms.settle()
    order = (await alice.call("GET", f"/api/orders/{resting}")).json()
    assert (order["status"], order["reject_reason"]) == ("canceled", "CANCELED_BY_HALT")
    assert (await alice.place(**BUY)).json()["reason"] == "ACCOUNT_HALTED"
    assert (await bob.call("GET", f"/api/orders/{bobs}")).json()["status"] == "new"

    await admin.call("POST", "/api/admin/trading-state", json={**halt, "state": "active"})
    assert (await alice.place(**BUY)).status == 202


async def test_instrument_and_global_kill_switch(oms: Oms, transport: Transport):
    alice, bob, admin, *_ = await setup(oms, transport)
    abc = (await alice.place(**BUY)).json()["order_id"]
    xyz = (
        await bob.place(symbol="XYZ", side="buy", type="limit", quantity="10", limit_price="50")
    ).json()["order_id"]
    await oms.settle()

    halt = {"scope": "instrument", "symbol": "ABC", "state": "halted"}
    assert (await admin.call("POST", "/api/admin/trading-state", json=halt)).status == 200
    await oms.settle()
    assert (await alice.call("GET", f"/api/orders/{abc}")).json()["status"] == "canceled"
    assert (await bob.call("GET", f"/api/orders/{xyz}")).json()["status"] == "new"
    assert (await bob.place(**BUY)).json()["reason"] == "INSTRUMENT_HALTED"
    listed = (await bob.call("GET", "/api/instruments")).json()["items"]
    assert {i["symbol"]: i["trading_state"] for i in listed} == {"ABC": "halted", "XYZ": "active"}

    everything = {"scope": "global", "state": "halted"}
    assert (await admin.call("POST", "/api/admin/trading-state", json=everything)).status == 200
    await oms.settle()
    assert (await bob.call("GET", f"/api/orders/{xyz}")).json()["status"] == "canceled"
    refused = await bob.place(
        symbol="XYZ", side="buy", type="limit", quantity="10", limit_price="50"
    )
    assert refused.json()["reason"] == "TRADING_HALTED"


async def test_admin_creates_an_account_whose_key_works_once_shown(oms: Oms, transport: Transport):
    alice, _, admin, *_ = await setup(oms, transport)
    body = {"name": "carol", "type": "paper", "risk_limits": {"max_open_orders": 5}}
    created = await admin.call("POST", "/api/admin/accounts", json=body)
    assert created.status == 201
    account = created.json()["account"]
    assert account["risk_limits"]["max_open_orders"] == 5
    carol = Client(transport, created.json()["api_key"])
    assert (await carol.place(**BUY)).status == 202
    fetched = await admin.call("GET", f"/api/admin/accounts/{account['account_id']}")
    assert "api_key" not in fetched.json()
    patched = await admin.call(
        "PATCH", f"/api/admin/accounts/{account['account_id']}", json={"risk_limits": {"burst": 7}}
    )
    assert patched.json()["risk_limits"]["burst"] == 7
    # A trader is not an admin; no key is no caller.
    refused = await alice.call("POST", "/api/admin/accounts", json=body)
    assert (refused.status, refused.json()["reason"]) == (403, "FORBIDDEN")
    anonymous = await transport.request("GET", "/api/orders")
    assert (anonymous.status, anonymous.json()["reason"]) == (401, "UNAUTHENTICATED")


async def test_entra_principal_header_maps_to_its_account(oms: Oms, transport: Transport):
    await setup(oms, transport)
    admin = Client(transport, oms.admin_key)
    body = {
        "name": "dora",
        "type": "live",
        "entra_object_id": "0f0e0d0c-1111-2222-3333-444455556666",
    }
    assert (await admin.call("POST", "/api/admin/accounts", json=body)).status == 201
    principal = {
        "auth_typ": "aad",
        "claims": [{"typ": "oid", "val": body["entra_object_id"]}],
        "role_typ": "roles",
    }
    header = base64.b64encode(orjson.dumps(principal)).decode()
    reply = await transport.request(
        "POST", "/api/orders", json=BUY, headers={"X-MS-CLIENT-PRINCIPAL": header}
    )
    assert reply.status == 202
    assert reply.json()["account_id"] == body["entra_object_id"]


async def test_server_owned_fields_oversized_bodies_and_bad_json_are_refused(
    oms: Oms, transport: Transport
):
    alice, *_ = await setup(oms, transport)
    owned = await alice.place(**BUY, order_id="mine", filled_quantity="1")
    assert owned.status == 422
    assert {e["field"] for e in owned.json()["errors"]} == {"order_id", "filled_quantity"}
    assert {e["reason"] for e in owned.json()["errors"]} == {"UNKNOWN_FIELD"}
    huge = await alice.place(**BUY, client_order_id="x" * 70_000)
    assert (huge.status, huge.json()["reason"]) == (413, "BODY_TOO_LARGE")
    float_price = await alice.place(**{**BUY, "limit_price": 99.5})
    assert (float_price.status, float_price.json()["reason"]) == (422, "INVALID_PRICE")
    missing = await alice.call("GET", "/api/nowhere")
    assert (missing.status, missing.json()["reason"]) == (404, "NOT_FOUND")


async def test_a_filter_on_a_status_no_order_takes_matches_nothing(oms: Oms, transport: Transport):
    alice, *_ = await setup(oms, transport)
    await alice.place(**BUY)
    await oms.settle()
    for retired in ("replaced", "suspended"):
        page = await alice.call("GET", "/api/orders", params={"status": [retired]})
        assert (page.status, page.json()) == (200, {"items": [], "next_cursor": None})
    both = await alice.call("GET", "/api/orders", params={"status": ["suspended", "new"]})
    assert [o["status"] for o in both.json()["items"]] == ["new"]
    every = [status.value for status in OrderStatus]
    assert (await alice.call("GET", "/api/orders", params={"status": every})).status == 200
    bad = await alice.call("GET", "/api/orders", params={"status": ["halted"]})
    assert (bad.status, bad.json()["field"]) == (422, "status.0")


def _crafted_cursor(ts: object, key: object) -> str:
    raw = json.dumps([ts, key], separators=(",", ":")).encode()  # orjson stops at 64 bits
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_cursor_the_server_did_not_issue_is_a_422_never_a_500(
    oms: Oms, transport: Transport
):
    alice, *_ = await setup(oms, transport)
    for _ in range(3):
        await alice.place(**BUY)
    issued = (await alice.call("GET", "/api/orders", params={"limit": 2})).json()["next_cursor"]
    crafted = [
        _crafted_cursor(2**63, "x"),  # past SQLite's int64: OverflowError
        _crafted_cursor(2**64 - 1, "x"),
        _crafted_cursor(-(2**63) - 1, "x"),
        _crafted_cursor(1, "x" * 200),  # longer than any id
        _crafted_cursor(1.5, "x"),
        base64.urlsafe_b64encode(b'[1, "x"]').decode(),  # not the server's own spelling
        issued + "=",
    ]
    for path in ("/api/orders", "/api/executions"):
        for cursor in crafted:
            reply = await alice.call("GET", path, params={"cursor": cursor})
            assert (reply.status, reply.json()["reason"], reply.json()["field"]) == (
                422,
                "INVALID_CURSOR",
                "cursor",
            ), (path, cursor)
    assert (await alice.call("GET", "/api/orders", params={"cursor": issued})).status == 200


async def test_a_body_that_is_not_json_is_invalid_json_with_no_field(oms: Oms) -> None:
    import httpx

    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("alice")
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    transport = httpx.ASGITransport(app=oms.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://oms") as client:
        for path in ("/api/orders", "/api/orders/preview"):
            for body in (b"nope", b'{"symbol":', b'{"symbol": "ABC",}'):
                reply = await client.post(path, content=body, headers=headers)
                problem = reply.json()
                assert reply.status_code == 422, (path, body, problem)
                # Not a field named after the byte offset where decoding stopped.
                assert (problem["reason"], problem["field"]) == ("INVALID_JSON", None), problem
                assert "JSON" in problem["detail"]
        orders = await client.get("/api/orders", headers=headers)
        assert orders.json()["items"] == []
