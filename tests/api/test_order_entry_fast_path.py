"""Order entry's fast path answers exactly as the FastAPI route would, failures included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from functions.problems import MAX_BODY_BYTES
from shared.ports.store_errors import StoreUnavailable
from shared.services import placing
from tests.support.oms import Client, Oms, Transport, serve

BUY = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "3", "limit_price": "99.5"}
_PER_ORDER = ("order_id", "client_order_id", "created_at", "updated_at")


async def alice(oms: Oms, transport: Transport) -> Client:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("alice")
    return Client(transport, key)


def same_but_ids(reply: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in reply.items() if k not in _PER_ORDER}


async def test_fast_path_and_route_give_the_same_order(oms: Oms, transport: Transport):
    client = await alice(oms, transport)
    fast = await client.place(**BUY)  # plain: the fast path
    routed = await client.place(**BUY, headers={"Idempotency-Key": "k-1"})  # the route
    assert (fast.status, routed.status) == (202, 202)
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert same_but_ids(fast.json()) == same_but_ids(routed.json())
    assert fast.json()["status"] == "pending_new"
    listed = (await client.call("GET", "/api/orders")).json()["items"]
    assert {o["order_id"] for o in listed} == {fast.json()["order_id"], routed.json()["order_id"]}


async def test_refusals_on_the_fast_path_are_the_routes_problems(oms: Oms, transport: Transport):
    client = await alice(oms, transport)
    off_grid = await client.place(**{**BUY, "limit_price": "99.501"})
    assert off_grid.status == 422
    assert off_grid.headers["content-type"] == "application/problem+json"
    assert (off_grid.json()["reason"], off_grid.json()["field"]) == (
        "PRICE_OFF_TICK",
        "limit_price",
    )
    first = await client.place(**BUY, client_order_id="dup")
    again = await client.place(**BUY, client_order_id="dup")
    assert (first.status, again.status, again.json()["reason"]) == (
        202,
        409,
        "DUPLICATE_CLIENT_ORDER_ID",
    )
    stranger = await Client(transport, "oms_not-a-key").place(**BUY)
    assert (stranger.status, stranger.json()["reason"]) == (401, "UNAUTHENTICATED")
    assert stranger.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'


async def test_a_store_outage_while_placing_is_a_503_and_stores_nothing(
    oms: Oms, transport: Transport, monkeypatch: pytest.MonkeyPatch
):
    client = await alice(oms, transport)

    async def down(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("disk gone")

    monkeypatch.setattr(oms.container.store.orders, "create", down)
    reply = await client.place(**BUY)
    assert (reply.status, reply.json()["reason"]) == (503, "SERVICE_UNAVAILABLE")
    monkeypatch.undo()
    assert (await client.call("GET", "/api/orders")).json()["items"] == []


async def test_an_unexpected_error_is_a_500_problem_not_a_dropped_connection(
    oms: Oms, transport: Transport, monkeypatch: pytest.MonkeyPatch
):
    client = await alice(oms, transport)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(placing, "place_order", broken)
    reply = await client.place(**BUY)
    assert (reply.status, reply.json()["reason"]) == (500, "INTERNAL_ERROR")
    assert reply.headers["content-type"] == "application/problem+json"


async def test_an_oversized_content_length_is_a_413_before_any_body_byte(oms: Oms):
    """The client declares a body past the limit and waits for the answer before sending
    it (as `Expect: 100-continue` clients do): the fast path must not wait for the body."""
    _, key = await oms.add_account("alice")
    async with serve(oms.app) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(
                b"POST /api/orders HTTP/1.1\r\nHost: oms\r\nContent-Type: application/json\r\n"
                + f"X-API-Key: {key}\r\nContent-Length: {10 * MAX_BODY_BYTES}\r\n\r\n".encode()
            )
            await writer.drain()
            # Generous: the answer is immediate; without the fix there is none at all.
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        finally:
            writer.close()
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines if line)
    assert status_line.split()[1] == "413"
    assert headers["content-type"] == "application/problem+json"
