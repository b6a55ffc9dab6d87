"""The Python `signalrcore` client (JSON protocol) against the local hub, fed by the REST notifier.

signalrcore follows the redirect negotiate response by connecting straight to the hub URL with
the token (no second negotiate), so it never learns its connection id: the instrument group is
joined per user here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

from shared.feeds import FeedPublisher, trades_group
from tests.integration.test_signalr_support import SignalRStack, signalr_stack

TARGETS = ["orderUpdated", "executionReported", "trade"]


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[SignalRStack]:
    async with signalr_stack() as s:
        yield s


class PyClient:
    def __init__(self, stack: SignalRStack, user: str) -> None:
        self.received: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.opened = threading.Event()
        self.connection = (
            HubConnectionBuilder()
            .with_url(stack.negotiate_base, options={"headers": {"X-Test-User": user}})
            .with_hub_protocol(JsonHubProtocol())
            .configure_logging(logging.WARNING)
            .build()
        )
        self.connection.on_open(self.opened.set)
        for target in TARGETS:
            self.connection.on(target, self._handler(target))

    def _handler(self, target: str) -> Any:
        def handle(args: list[Any]) -> None:
            self.received.put((target, args))

        return handle

    async def start(self) -> None:
        await asyncio.to_thread(self.connection.start)
        assert await asyncio.to_thread(self.opened.wait, 10), "signalrcore did not connect"

    def stop(self) -> None:
        # signalrcore 1.0.2's stop() closes the socket and joins its receive thread, which stays
        # blocked in recv(); shutting the socket down first wakes it.
        client = getattr(self.connection.transport, "_client", None)
        if client is not None and client.sock is not None:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)
        self.connection.stop()

    async def take(self, count: int) -> list[tuple[str, Any]]:
        return [await asyncio.to_thread(self.received.get, True, 10) for _ in range(count)]


@pytest.fixture
def clients(stack: SignalRStack) -> Iterator[list[PyClient]]:
    made: list[PyClient] = []
    yield made
    for client in made:
        client.stop()


async def test_signalrcore_receives_its_account_stream_in_order_and_no_one_elses(
    stack: SignalRStack, clients: list[PyClient]
) -> None:
    alice, bob = PyClient(stack, "alice"), PyClient(stack, "bob")
    clients.extend([alice, bob])
    await alice.start()
    await bob.start()
    await stack.notifier.add_user_to_group("alice", trades_group("Y"))
    feeds = FeedPublisher(stack.notifier)
    await feeds.order_updated("alice", {"order_id": "o1", "status": "NEW"})
    await feeds.trade("Y", {"price": "99.5"})
    await feeds.execution_reported("alice", {"order_id": "o1", "last_qty": "1"})
    await feeds.order_updated("alice", {"order_id": "o1", "status": "FILLED"})
    await feeds.order_updated("bob", {"order_id": "o7", "status": "NEW"})

    got = await alice.take(4)
    assert [t for t, _ in got] == ["orderUpdated", "trade", "executionReported", "orderUpdated"]
    account = [args[0] for t, args in got if t != "trade"]
    assert [e["seq"] for e in account] == [1, 2, 3]
    assert got[1][1][0]["stream"] == "trades:Y"

    bob_got = await bob.take(1)
    assert [(t, args[0]["data"]["order_id"]) for t, args in bob_got] == [("orderUpdated", "o7")]
    await asyncio.sleep(0.2)
    assert bob.received.empty() and alice.received.empty()


async def test_a_user_removed_from_a_group_stops_getting_its_messages(
    stack: SignalRStack, clients: list[PyClient]
) -> None:
    carol = PyClient(stack, "carol")
    clients.append(carol)
    await carol.start()
    await stack.notifier.add_user_to_group("carol", trades_group("Z"))
    await stack.notifier.send_to_group(trades_group("Z"), "trade", [{"n": 1}])
    await stack.notifier.remove_user_from_group("carol", trades_group("Z"))
    await stack.notifier.send_to_group(trades_group("Z"), "trade", [{"n": 2}])
    await stack.notifier.send_to_user("carol", "orderUpdated", [{"n": 3}])
    got = await carol.take(2)
    assert got == [("trade", [{"n": 1}]), ("orderUpdated", [{"n": 3}])]
