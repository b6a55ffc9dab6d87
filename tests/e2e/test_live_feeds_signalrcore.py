"""The Python `signalrcore` client (JSON protocol) on the whole local run: negotiate through
`POST /api/negotiate` with the account's X-API-Key, a user-level subscription to an
instrument's trades (signalrcore never learns its connection id), the account stream of a
fill in order and contiguous, and nothing of another account's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import socket
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

from tests.e2e.support import Account, LocalOms, account_messages

TARGETS = ["orderUpdated", "executionReported", "trade", "book"]
SYMBOL = "MSFT"


class PyClient:
    def __init__(self, oms: LocalOms, account: Account) -> None:
        self.inbox: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.opened = threading.Event()
        self.connection = (
            HubConnectionBuilder()
            .with_url(oms.negotiate_base, options={"headers": account.headers})
            .with_hub_protocol(JsonHubProtocol())
            .configure_logging(logging.WARNING)
            .build()
        )
        self.connection.on_open(self.opened.set)
        for target in TARGETS:
            self.connection.on(target, self._handler(target))

    def _handler(self, target: str) -> Any:
        def handle(args: list[Any]) -> None:
            self.inbox.put((target, args[0]))

        return handle

    async def start(self) -> None:
        await asyncio.to_thread(self.connection.start)
        assert await asyncio.to_thread(self.opened.wait, 10), "signalrcore did not connect"

    def stop(self) -> None:
        # signalrcore 1.0.2's stop() joins its receive thread, which stays blocked in recv();
        # shutting the socket down first wakes it.
        client = getattr(self.connection.transport, "_client", None)
        if client is not None and client.sock is not None:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)
        self.connection.stop()

    async def until(self, done: Any, timeout: float = 10.0) -> list[tuple[str, dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(self.got):
            wait = max(0.01, deadline - loop.time())
            self.got.append(await asyncio.to_thread(self.inbox.get, True, wait))
        return self.got

    async def drain(self, quiet: float = 0.3) -> list[tuple[str, dict[str, Any]]]:
        with contextlib.suppress(queue.Empty):
            while True:
                self.got.append(await asyncio.to_thread(self.inbox.get, True, quiet))
        return self.got


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
    carol_client, dave_client = PyClient(local_oms, carol), PyClient(local_oms, dave)
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
