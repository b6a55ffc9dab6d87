"""The account feed an entrypoint relays (Alpaca's trade_updates stream): as a SignalR client
over real HTTP and WebSocket (how the stream container listens to SignalR Service, here to
the local hub through the same REST notifier and client protocol), and in process from the
local hub (the local run). Each gets its account's pushes, in order, and nobody else's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from shared.adapters.feed_local import LocalHubFeed
from shared.adapters.feed_signalr import SignalRClientFeed
from shared.adapters.signalr_local import LocalNotifier
from shared.ports.account_feed import AccountFeed, FeedMessage
from shared.ports.notifier import Notifier
from shared.signalr_hub import LocalHub
from tests.integration.test_signalr_support import ACCESS_KEY, signalr_stack


async def _next(messages: AsyncIterator[FeedMessage]) -> FeedMessage:
    return await asyncio.wait_for(anext(messages), 10)


async def _relays_its_accounts_pushes(feed: AccountFeed, notifier: Notifier) -> None:
    async with feed.listen("acc-1") as messages:
        await notifier.send_to_user("acc-2", "orderUpdated", [{"seq": 1, "data": {"x": 0}}])
        for seq in (1, 2):
            envelope = {"stream": "account:acc-1", "seq": seq, "data": {"n": seq}}
            await notifier.send_to_user("acc-1", "orderUpdated", [envelope])
        await notifier.send_to_user("acc-1", "executionReported", [{"seq": 3, "data": {}}])

        got = [await _next(messages) for _ in range(3)]

    assert [(m.target, m.envelope["seq"]) for m in got] == [
        ("orderUpdated", 1),
        ("orderUpdated", 2),
        ("executionReported", 3),
    ]
    assert got[1].envelope["data"] == {"n": 2}


async def test_a_signalr_client_feed_relays_only_its_accounts_pushes():
    async with signalr_stack() as stack:
        await _relays_its_accounts_pushes(SignalRClientFeed(stack.notifier), stack.notifier)
        # Leaving the block closed the client's connection: the hub forgets the user.
        await asyncio.sleep(0.2)
        assert not stack.hub.user_connected("oms", "acc-1")


async def test_the_local_hub_feed_relays_only_its_accounts_pushes():
    hub = LocalHub(ACCESS_KEY)
    notifier = LocalNotifier(hub, "http://127.0.0.1:1/signalr")

    await _relays_its_accounts_pushes(LocalHubFeed(hub), notifier)

    assert not hub.user_connected("oms", "acc-1")
