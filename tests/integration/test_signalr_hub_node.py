"""The official @microsoft/signalr client (Node) against the local hub, fed by the REST notifier."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from shared.feeds import FeedPublisher, trades_group
from tests.integration.test_signalr_support import SignalRStack, signalr_stack

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests/integration/node/signalr_listen.mjs"
MODULE = ROOT / ".tools/node-signalr/node_modules/@microsoft/signalr"
TARGETS = ["orderUpdated", "executionReported", "trade", "book"]


@pytest.fixture(scope="module")
def node_signalr() -> Path:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node/npm are not installed: cannot run the @microsoft/signalr client")
    subprocess.run(["bash", str(ROOT / "scripts/install_node_signalr.sh")], check=True)
    return MODULE


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[SignalRStack]:
    async with signalr_stack() as s:
        yield s


class NodeClient:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []

    async def next_event(self, timeout: float = 10.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            stderr = await self.proc.stderr.read() if self.proc.stderr else b""
            raise AssertionError(f"node client ended: {stderr.decode()[-2000:]}")
        event: dict[str, Any] = json.loads(line)
        self.events.append(event)
        return event

    async def messages(self, count: int) -> list[dict[str, Any]]:
        got = [e for e in self.events if e["event"] == "message"]
        while len(got) < count:
            event = await self.next_event()
            assert event["event"] == "message", event
            got.append(event)
        return got

    async def finish(self) -> int:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        return await asyncio.wait_for(self.proc.wait(), 10)


async def start_client(module: Path, stack: SignalRStack, user: str, expect: int) -> NodeClient:
    options = {
        "url": stack.negotiate_base,
        "headers": {"X-Test-User": user},
        "targets": TARGETS,
        "expect": expect,
        "timeoutMs": 20000,
    }
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        json.dumps(options),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SIGNALR_MODULE": str(module)},
    )
    client = NodeClient(proc)
    event = await client.next_event(timeout=15)
    assert event["event"] == "connected", event
    return client


async def test_node_client_receives_its_account_stream_in_order_and_no_one_elses(
    node_signalr: Path, stack: SignalRStack
) -> None:
    alice = await start_client(node_signalr, stack, "alice", expect=5)
    bob = await start_client(node_signalr, stack, "bob", expect=1)
    # Subscribe alice's connection to an instrument's trades, as POST /api/subscriptions will.
    await stack.notifier.add_connection_to_group(alice.events[0]["connectionId"], trades_group("X"))
    feeds = FeedPublisher(stack.notifier)
    await feeds.order_updated("alice", {"order_id": "o1", "status": "NEW"})
    await feeds.execution_reported("alice", {"order_id": "o1", "last_qty": "3"})
    await feeds.trade("X", {"price": "10.00", "quantity": "3"})
    await feeds.execution_reported("alice", {"order_id": "o1", "last_qty": "2"})
    await feeds.order_updated("alice", {"order_id": "o1", "status": "FILLED"})
    await feeds.order_updated("bob", {"order_id": "o9", "status": "NEW"})  # bob's only message

    got = await alice.messages(5)
    assert [m["target"] for m in got] == [
        "orderUpdated",
        "executionReported",
        "trade",
        "executionReported",
        "orderUpdated",
    ]
    account = [m["args"][0] for m in got if m["target"] != "trade"]
    assert [e["seq"] for e in account] == [1, 2, 3, 4]
    assert {e["stream"] for e in account} == {"account:alice"}
    assert got[2]["args"][0] == {
        "stream": "trades:X",
        "epoch": feeds.epoch,
        "seq": 1,
        "data": {"price": "10.00", "quantity": "3"},
    }

    bob_got = await bob.messages(1)
    assert [(m["target"], m["args"][0]["data"]["order_id"]) for m in bob_got] == [
        ("orderUpdated", "o9")
    ]
    assert await alice.finish() == 0
    assert await bob.finish() == 0
    assert [e for e in bob.events if e["event"] == "message"] == bob_got


async def test_node_client_is_refused_without_an_identity(
    node_signalr: Path, stack: SignalRStack
) -> None:
    options = {"url": stack.negotiate_base, "headers": {}, "targets": TARGETS, "timeoutMs": 5000}
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        json.dumps(options),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SIGNALR_MODULE": str(node_signalr)},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 15)
    event = json.loads(out.splitlines()[0])
    assert event["event"] == "error" and "401" in event["error"]
