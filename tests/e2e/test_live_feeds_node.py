"""The official @microsoft/signalr client (Node) on the whole local run: it negotiates through
`POST /api/negotiate` with its account's X-API-Key, gets its orders' updates and executions
in one contiguous stream, joins an instrument's trades with its own connection id, and never
sees another account's messages; an admin's client joins the admin feed and hears every
audit entry, which no trader's client does."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.support import Account, LocalOms, account_messages

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests/integration/node/signalr_listen.mjs"
MODULE = ROOT / ".tools/node-signalr/node_modules/@microsoft/signalr"
TARGETS = ["orderUpdated", "executionReported", "trade", "book", "auditRecorded"]
SYMBOL = "AAPL"


@pytest.fixture(scope="module")
def node_signalr() -> Path:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("node/npm are not installed: cannot run the @microsoft/signalr client")
    subprocess.run(["bash", str(ROOT / "scripts/install_node_signalr.sh")], check=True)
    return MODULE


class NodeClient:
    """One `signalr_listen.mjs` process; its JSON lines become `events`."""

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

    def received(self) -> list[tuple[str, dict[str, Any]]]:
        return [(e["target"], e["args"][0]) for e in self.events if e["event"] == "message"]

    async def until(self, done: Any, timeout: float = 10.0) -> list[tuple[str, dict[str, Any]]]:
        """Read messages until `done(received)` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(self.received()):
            await self.next_event(max(0.01, deadline - loop.time()))
        return self.received()

    async def drain(self, quiet: float = 0.3) -> None:
        """Read whatever else arrives within `quiet` seconds."""
        try:
            while True:
                await self.next_event(quiet)
        except TimeoutError:
            pass

    async def finish(self) -> int:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        return await asyncio.wait_for(self.proc.wait(), 10)


async def start_client(
    module: Path, oms: LocalOms, account: Account, subscribe: dict[str, Any] | None = None
) -> NodeClient:
    options: dict[str, Any] = {
        "url": oms.negotiate_base,
        "headers": account.headers,
        "targets": TARGETS,
        "timeoutMs": 30000,
    }
    if subscribe is not None:
        options["subscribe"] = {"url": f"{oms.url}/api/subscriptions", **subscribe}
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
    if subscribe is not None:
        event = await client.next_event()
        assert (event["event"], event["status"]) == ("subscribed", 200), event
    return client


def _filled(order_id: str) -> Any:
    def done(got: list[tuple[str, dict[str, Any]]]) -> bool:
        data = [(t, e["data"]) for t, e in got]
        return any(
            t == "orderUpdated" and d.get("order_id") == order_id and d.get("status") == "filled"
            for t, d in data
        ) and any(t == "executionReported" and d["order_id"] == order_id for t, d in data)

    return done


async def test_node_client_gets_its_fill_in_one_contiguous_stream_and_nothing_of_others(
    node_signalr: Path, local_oms: LocalOms
) -> None:
    alice = local_oms.live  # the live demo account
    bob = await local_oms.new_account("e2e-node-counterparty")
    carol = await local_oms.new_account("e2e-node-bystander")
    alice_client = await start_client(
        node_signalr, local_oms, alice, subscribe={"symbols": [SYMBOL], "feeds": ["trades"]}
    )
    bob_client = await start_client(node_signalr, local_oms, bob)
    carol_client = await start_client(node_signalr, local_oms, carol)
    state = await local_oms.feed_state(alice)  # where alice's stream stands before the order

    resting = await local_oms.place(bob, SYMBOL, "sell", "5", "190.00")
    crossing = await local_oms.place(alice, SYMBOL, "buy", "5", "190.00")

    got = await alice_client.until(_filled(crossing["order_id"]))
    stream = account_messages(got, alice.account_id)
    assert [e["seq"] for _, e in stream] == list(
        range(state["seq"] + 1, state["seq"] + 1 + len(stream))
    ), "the account stream is contiguous from where GET /api/feeds/state left it"
    assert {e["epoch"] for _, e in stream} == {state["epoch"]}
    assert {e["data"]["order_id"] for _, e in stream} == {crossing["order_id"]}
    assert [(t, e["data"].get("status")) for t, e in stream] == [
        ("orderUpdated", "new"),  # accepted by the matcher
        ("orderUpdated", "filled"),
        ("executionReported", None),  # the fill itself
    ]
    execution = next(e["data"] for t, e in stream if t == "executionReported")
    assert execution["side"] == "buy"
    assert (Decimal(execution["quantity"]), Decimal(execution["price"])) == (
        Decimal(5),
        Decimal(190),
    )
    assert execution["liquidity"] == "taker"

    # The trade, on the group the client joined with its own connection id.
    got = await alice_client.until(lambda g: any(t == "trade" for t, _ in g))
    trade = next(e for t, e in got if t == "trade")
    assert trade["stream"] == f"trades:{SYMBOL}"
    assert trade["data"]["trade_id"] == execution["trade_id"]

    bob_got = await bob_client.until(_filled(resting["order_id"]))
    await bob_client.drain()
    await carol_client.drain()
    await alice_client.drain()
    bob_got = bob_client.received()
    assert {e["stream"] for _, e in bob_got} == {f"account:{bob.account_id}"}
    assert {e["data"]["order_id"] for _, e in bob_got} == {resting["order_id"]}
    assert carol_client.received() == []  # a bystander with no orders and no subscriptions
    assert crossing["order_id"] not in json.dumps(bob_got + carol_client.received())
    assert resting["order_id"] not in json.dumps(
        account_messages(alice_client.received(), alice.account_id)
    )
    for client in (alice_client, bob_client, carol_client):
        assert await client.finish() == 0


async def test_an_admin_client_hears_admin_actions_live_and_a_trader_does_not(
    node_signalr: Path, local_oms: LocalOms
) -> None:
    admin = local_oms.admin
    join = {"url": f"{local_oms.url}/api/admin/subscriptions"}
    watcher = await start_client(node_signalr, local_oms, admin, subscribe=join)
    trader = local_oms.live
    bystander = await start_client(node_signalr, local_oms, trader)
    state = (await local_oms.http.get("/api/admin/feeds/state", headers=admin.headers)).json()
    refused = await local_oms.http.post("/api/admin/subscriptions", json={}, headers=trader.headers)
    assert refused.status_code == 403

    desk = await local_oms.new_account("e2e-node-admin-feed")
    halted = await local_oms.http.patch(
        f"/api/admin/accounts/{desk.account_id}",
        json={"trading_state": "halted"},
        headers=admin.headers,
    )
    assert halted.status_code == 200, halted.text

    def heard(got: list[tuple[str, dict[str, Any]]]) -> bool:
        return any(e["data"]["action"] == "kill_switch.account" for t, e in got)

    got = await watcher.until(heard)
    mine = [e for t, e in got if t == "auditRecorded" and e["data"]["target_id"] == desk.account_id]
    actions = [e["data"]["action"] for e in mine]
    assert actions == ["account.created", "account.changed", "kill_switch.account"]
    assert mine[-1]["data"]["after"] == {"trading_state": "halted"}
    assert {e["stream"] for _, e in got} == {"admin"}
    assert {e["epoch"] for _, e in got} == {state["epoch"]}
    seqs = [e["seq"] for _, e in got]
    assert seqs == list(range(state["seq"] + 1, state["seq"] + 1 + len(seqs)))
    audit = await local_oms.http.get(
        "/api/admin/audit", params={"target_id": desk.account_id}, headers=admin.headers
    )
    assert {e["audit_id"] for e in audit.json()["items"]} == {e["data"]["audit_id"] for e in mine}

    await bystander.drain()
    assert bystander.received() == []  # the trader hears nothing of the admins' feed
    for client in (watcher, bystander):
        assert await client.finish() == 0
