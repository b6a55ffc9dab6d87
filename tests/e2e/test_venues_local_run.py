"""The local run holds external venues too: a venue defined over the admin API is connected
by the in-process gateway (to the FIX exchange simulator, its own process, real TCP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support import LocalOms
from tests.support.fix_exchange import FixExchange, eventually

pytestmark = pytest.mark.timeout(180)  # QuickFIX threads: a hang fails with its stacks


async def test_a_venue_defined_over_the_api_is_connected_and_shown_connected(
    local_oms: LocalOms, tmp_path: Path
):
    exchange = await FixExchange(tmp_path / "exchange", target="OMS-E2E").start()
    admin = {"X-API-Key": local_oms.keys.admin}
    body = {
        "name": "sim-e2e",
        "kind": "fix",
        "host": "127.0.0.1",
        "port": exchange.fix_port,
        "sender_comp_id": "OMS-E2E",
        "target_comp_id": "EXCH",
        "heartbeat_seconds": 5,
    }
    try:
        created = await local_oms.http.post("/api/admin/venues", json=body, headers=admin)
        assert created.status_code == 201, created.text

        async def state() -> str:
            listed = await local_oms.http.get("/api/admin/venues", headers=admin)
            (venue,) = [v for v in listed.json()["items"] if v["name"] == "sim-e2e"]
            return str(venue["state"])

        await eventually(lambda: _is(state, "connected"), timeout=30)
        assert (await exchange.state())["logged_on"] is True

        await exchange.post("/drop", refuse_logon=True)  # the venue goes away
        await eventually(lambda: _is(state, "disconnected"), timeout=30)
        listed = await local_oms.http.get("/api/admin/venues", headers=admin)
        (venue,) = [v for v in listed.json()["items"] if v["name"] == "sim-e2e"]
        assert "not taking logons" in (venue["last_error"] or ""), venue
        await exchange.post("/allow")
        await eventually(lambda: _is(state, "connected"), timeout=60)
    finally:
        await exchange.stop()


async def _is(state, expected: str) -> bool:
    return bool(await state() == expected)
