"""The Python `signalrcore` client (JSON protocol) on the whole local run: negotiate through
`POST /api/negotiate` with the account's X-API-Key, a user-level subscription to an
instrument's trades (signalrcore never learns its connection id), the account stream of a
fill in order and contiguous, and nothing of another account's."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.feed_client import PyClient
from tests.e2e.support import LocalOms, account_messages

SYMBOL = "MSFT"


@pytest.fixture
def clients() -> Iterator[list[PyClient]]:
    made: list[PyClient] = []
    yield made
    for client in made:
        client.stop()


async def test_signalrcore_gets_its_fill_and_the_trade_it_subscribed_to_and_nothing_else(
    local_oms: LocalOms, clients: list[PyClient]
) -> None:
    carol = await local_oms.new_account("e2e-signalrcore-taker")
    dave = await local_oms.new_account("e2e-signalrcore-maker")
    carol_client, dave_client = PyClient.of(local_oms, carol), PyClient.of(local_oms, dave)
    clients.extend([carol_client, dave_client])
    await carol_client.start()
    await dave_client.start()
    response = await local_oms.http.post(
        "/api/subscriptions",
        json={"symbols": [SYMBOL], "feeds": ["trades"]},
        headers=carol.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["groups"] == [f"trades:{SYMBOL}"]
    state = await local_oms.feed_state(carol)

    resting = await local_oms.place(dave, SYMBOL, "sell", "3", "420.00")
    crossing = await local_oms.place(carol, SYMBOL, "buy", "3", "420.00")

    def carol_done(got: list[tuple[str, dict[str, Any]]]) -> bool:
        return any(t == "trade" for t, _ in got) and any(
            t == "executionReported" for t, _ in account_messages(got, carol.account_id)
        )

    got = await carol_client.until(carol_done)
    stream = account_messages(await carol_client.drain(), carol.account_id)
    assert [e["seq"] for _, e in stream] == [state["seq"] + 1, state["seq"] + 2, state["seq"] + 3]
    assert {e["epoch"] for _, e in stream} == {state["epoch"]}
    assert [(t, e["data"]["order_id"], e["data"].get("status")) for t, e in stream] == [
        ("orderUpdated", crossing["order_id"], "new"),
        ("orderUpdated", crossing["order_id"], "filled"),
        ("executionReported", crossing["order_id"], None),
    ]
    execution = stream[2][1]["data"]

    trades = [e for t, e in got if t == "trade"]
    assert len(trades) == 1
    trade = trades[0]
    assert trade["stream"] == f"trades:{SYMBOL}"
    assert trade["data"]["trade_id"] == execution["trade_id"]
    assert (Decimal(trade["data"]["price"]), Decimal(trade["data"]["quantity"])) == (
        Decimal(420),
        Decimal(3),
    )
    assert trade["data"]["aggressor_side"] == "buy"

    await dave_client.until(
        lambda g: any(t == "executionReported" for t, _ in g)
    )  # dave hears about his own fill...
    dave_got = await dave_client.drain()
    assert {e["stream"] for _, e in dave_got} == {f"account:{dave.account_id}"}
    assert {e["data"]["order_id"] for _, e in dave_got} == {resting["order_id"]}
    assert not any(t == "trade" for t, _ in dave_got)  # ... and not subscribed to trades
