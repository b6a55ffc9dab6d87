"""A bracket order end to end over real HTTP on the local run, watched with the Python SignalR
client: its entry fills in two parts, each part releasing as much of the take-profit and the
stop-loss (a filled part is never unprotected); the take-profit then fills and the stop-loss
is canceled with it. The trader's account stream carries every step, in order, contiguous."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.feed_client import PyClient
from tests.e2e.support import Account, LocalOms, account_messages

SYMBOL = "BRKT"  # an instrument of its own: no other test's orders in its book


@pytest.fixture
def clients() -> Iterator[list[PyClient]]:
    made: list[PyClient] = []
    yield made
    for client in made:
        client.stop()


async def limit(
    oms: LocalOms, account: Account, side: str, quantity: str, price: str
) -> dict[str, Any]:
    body = {
        "symbol": SYMBOL,
        "side": side,
        "type": "limit",
        "quantity": quantity,
        "limit_price": price,
        "time_in_force": "gtc",
    }
    reply = await oms.http.post("/api/orders", json=body, headers=account.headers)
    assert reply.status_code == 202, reply.text
    placed: dict[str, Any] = reply.json()
    return placed


def steps(stream: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, Any, Any, Any]]:
    """(target, order id, event, reason, status) of each message."""
    return [
        (
            target,
            envelope["data"]["order_id"],
            envelope["data"].get("event"),
            envelope["data"].get("event_reason"),
            envelope["data"].get("status"),
        )
        for target, envelope in stream
    ]


async def test_a_bracket_protects_each_filled_part_and_its_exits_end_together(
    local_oms: LocalOms, clients: list[PyClient]
) -> None:
    admin = {"X-API-Key": local_oms.keys.admin}
    made = await local_oms.http.post(
        "/api/admin/instruments",
        json={"symbol": SYMBOL, "tick_size": "0.01", "lot_size": "1", "reference_price": "100"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    trader = await local_oms.new_account("e2e-bracket-trader")
    seller = await local_oms.new_account("e2e-bracket-seller")
    buyer = await local_oms.new_account("e2e-bracket-buyer")
    feed = PyClient.of(local_oms, trader)
    clients.append(feed)
    await feed.start()
    state = await local_oms.feed_state(trader)

    reply = await local_oms.http.post(
        "/api/orders",
        json={
            "symbol": SYMBOL,
            "side": "buy",
            "type": "limit",
            "quantity": "10",
            "limit_price": "100.00",
            "time_in_force": "gtc",
            "order_class": "bracket",
            "client_order_id": "e2e-bracket",
            "take_profit": {"limit_price": "105.00"},
            "stop_loss": {"stop_price": "95.00"},
        },
        headers=trader.headers,
    )
    assert reply.status_code == 202, reply.text
    entry = reply.json()
    entry_id = entry["order_id"]
    take_profit, stop_loss = (leg["order_id"] for leg in entry["legs"])

    def count(n: int) -> Any:
        return lambda got: len(account_messages(got, trader.account_id)) >= n

    await feed.until(count(3))  # the three orders accepted, the exits held
    await limit(local_oms, seller, "sell", "4", "100.00")
    await feed.until(count(3 + 4))  # the first part: a fill, its execution, two releases
    await limit(local_oms, seller, "sell", "6", "100.00")
    await feed.until(count(7 + 4))
    await limit(local_oms, buyer, "buy", "10", "105.00")
    await feed.until(count(11 + 3))  # the take-profit fills; the stop-loss ends with it
    stream = account_messages(await feed.drain(), trader.account_id)

    assert [e["seq"] for _, e in stream] == list(range(state["seq"] + 1, state["seq"] + 15))
    assert {e["epoch"] for _, e in stream} == {state["epoch"]}
    updated, executed = "orderUpdated", "executionReported"
    assert steps(stream) == [
        (updated, entry_id, "order_accepted", None, "new"),
        (updated, take_profit, "order_accepted", None, "held"),
        (updated, stop_loss, "order_accepted", None, "held"),
        (updated, entry_id, "order_filled", None, "partially_filled"),
        (executed, entry_id, None, None, None),
        (updated, take_profit, "order_restated", "LEG_RELEASED", "new"),
        (updated, stop_loss, "order_restated", "LEG_RELEASED", "new"),
        (updated, entry_id, "order_filled", None, "filled"),
        (executed, entry_id, None, None, None),
        (updated, take_profit, "order_restated", "LEG_RELEASED", "new"),
        (updated, stop_loss, "order_restated", "LEG_RELEASED", "new"),
        (updated, take_profit, "order_filled", None, "filled"),
        (executed, take_profit, None, None, None),
        (updated, stop_loss, "order_canceled", "OCO_SIBLING_FILLED", "canceled"),
    ]
    # What each step showed of the exits: live as much as the entry had filled.
    released = [d["data"] for t, d in stream if d["data"].get("event") == "order_restated"]
    assert [(d["leaves_quantity"], d["held_quantity"]) for d in released] == [
        ("4", "6"),
        ("4", "6"),
        ("10", "0"),
        ("10", "0"),
    ]
    fills = [Decimal(d["data"]["quantity"]) for t, d in stream if t == executed]
    assert fills == [4, 6, 10]

    final = (await local_oms.http.get(f"/api/orders/{entry_id}", headers=trader.headers)).json()
    assert (final["status"], final["filled_quantity"]) == ("filled", "10")
    assert [
        (leg["status"], leg["filled_quantity"], leg["canceled_quantity"]) for leg in final["legs"]
    ] == [
        ("filled", "10", "0"),
        ("canceled", "0", "10"),
    ]
    positions = (await local_oms.http.get("/api/positions", headers=trader.headers)).json()
    assert [(p["symbol"], p["net_quantity"]) for p in positions["items"]] == [(SYMBOL, "0")]
