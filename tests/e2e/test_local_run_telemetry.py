"""A whole run of `python -m localrun` as a user starts it (DEBUG logs), driven over
HTTP and SignalR: orders by hand, a short load from the load generator, crossing orders,
refusals, a wrong key. Then `GET /api/metrics` (curl's view) and the process's log."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.feed_client import PyClient
from tests.e2e.process import LocalRunProcess, local_run_process
from tests.support.telemetry import Sample, parse_exposition, value
from tools.loadgen import main_async

LOAD_ORDERS = 200  # --rate 100 for 2 s
PAIRS = 5  # resting sells and the buys that fill them, on MSFT
OFF_TICK = 3


@dataclass
class Run:
    process: LocalRunProcess
    keys: list[str]  # every API key the run handed out or was sent
    traced_order: str
    after_load: list[Sample]
    after_crossing: list[Sample]
    metrics_text: str
    logs: list[str]
    stdout: str


async def _place(
    http: httpx.AsyncClient, key: str, side: str, price: str, symbol: str = "MSFT"
) -> httpx.Response:
    body = {"symbol": symbol, "side": side, "type": "limit", "quantity": "2",
            "limit_price": price, "time_in_force": "gtc"}  # fmt: skip
    return await http.post("/api/orders", json=body, headers={"X-API-Key": key})


async def _new_account(http: httpx.AsyncClient, admin: str, name: str) -> tuple[str, str]:
    response = await http.post(
        "/api/admin/accounts", json={"name": name, "type": "live"}, headers={"X-API-Key": admin}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["account"]["account_id"], body["api_key"]


async def _until_filled(http: httpx.AsyncClient, key: str, order_ids: list[str]) -> None:
    for _ in range(200):
        statuses = [
            (await http.get(f"/api/orders/{i}", headers={"X-API-Key": key})).json()["status"]
            for i in order_ids
        ]
        if all(s == "filled" for s in statuses):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not filled: {statuses}")


async def _scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/api/metrics")  # from 127.0.0.1, like curl on the machine
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture(scope="module")
async def run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Run]:
    cwd: Path = tmp_path_factory.mktemp("localrun-telemetry")
    with local_run_process(cwd, {"OMS_LOG_LEVEL": "DEBUG"}) as process:
        keys = process.keys()
        admin = keys["admin"]
        known = [keys["admin"], keys["live_key"], keys["paper_key"]]
        async with httpx.AsyncClient(base_url=process.url, timeout=10) as http:
            # One order by hand, its owner listening on the live feed.
            _, key = await _new_account(http, admin, "e2e-telemetry")
            known.append(key)
            client = PyClient(f"{process.url}/api", {"X-API-Key": key})
            await client.start()
            try:
                placed = await _place(http, key, "buy", "180.00", symbol="AAPL")
                assert placed.status_code == 202, placed.text
                traced = placed.json()["order_id"]
                await client.until(
                    lambda got: any(
                        t == "orderUpdated" and e["data"].get("order_id") == traced for t, e in got
                    )
                )
            finally:
                client.stop()
            wrong = "oms_" + "x" * 43  # a key nobody has: refused, and never logged
            known.append(wrong)
            assert (await _place(http, wrong, "buy", "180.00")).status_code == 401
            for _ in range(OFF_TICK):
                assert (await _place(http, key, "buy", "180.001")).status_code == 422
            # A short load, as the README runs it.
            summary = await main_async(
                argparse.Namespace(url=process.url, admin_key=admin, symbol="AAPL", rate=100.0,
                                seconds=2.0, concurrency=8, accounts=2, seed=3,
                                wait_seconds=60.0)
            )  # fmt: skip
            assert summary["accepted"] == LOAD_ORDERS and summary["all_processed"], summary
            after_load = parse_exposition(await _scrape(http))
            # Crossing orders: each buy fills one resting sell.
            _, seller = await _new_account(http, admin, "e2e-telemetry-seller")
            known.append(seller)
            sells = [(await _place(http, seller, "sell", "400.00")).json() for _ in range(PAIRS)]
            buys = [(await _place(http, key, "buy", "400.00")).json() for _ in range(PAIRS)]
            await _until_filled(http, seller, [o["order_id"] for o in sells])
            await _until_filled(http, key, [o["order_id"] for o in buys])
            text = await _scrape(http)
    yield Run(
        process,
        known,
        traced,
        after_load,
        parse_exposition(text),
        text,
        process.log_lines(),
        process.stdout.read_text(),
    )


def test_metrics_after_a_short_load_show_what_the_load_did(run: Run) -> None:
    load, end = run.after_load, run.after_crossing
    accepted = 1 + LOAD_ORDERS  # the order by hand and the load
    assert value(load, "oms_orders_accepted_total") == accepted
    assert value(load, "oms_order_acceptance_duration_seconds_count") == accepted
    assert value(load, "oms_order_acceptance_duration_seconds_bucket", le="+Inf") == accepted
    assert value(load, "oms_orders_refused_total", reason="PRICE_OFF_TICK") == OFF_TICK
    assert value(load, "oms_matcher_batch_commands_sum", symbol="AAPL") == accepted
    assert value(load, "oms_matcher_batch_duration_seconds_count", symbol="AAPL") >= 1
    assert any(s.name == "oms_matcher_backlog_seconds" and s.labels == {"symbol": "AAPL"}
               for s in load)  # fmt: skip
    assert value(load, "oms_projector_lag_seconds_count", symbol="AAPL") >= 1
    assert value(load, "oms_feed_messages_total", target="orderUpdated") >= 1  # the listener

    crossed = 2 * PAIRS
    assert value(end, "oms_orders_accepted_total") == accepted + crossed
    assert value(end, "oms_matcher_batch_commands_sum", symbol="MSFT") == crossed
    assert (
        value(end, "oms_order_fill_duration_seconds_count")
        - value(load, "oms_order_fill_duration_seconds_count")
        == crossed
    )  # every crossing order filled once, fully
    assert (
        value(end, "oms_feed_messages_total", target="trade")
        - value(load, "oms_feed_messages_total", target="trade")
        == PAIRS
    )
    assert value(end, "oms_feed_messages_total", target="book") >= 1
    # No poison message in this run: nothing dead-lettered.
    assert value(end, "oms_bus_dead_letters_total") == 0


def test_every_log_line_is_a_json_object_and_no_start_line_is_a_warning(run: Run) -> None:
    records = [json.loads(line) for line in run.logs]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    # The start: everything logged before the first request was served.
    first_request = next(i for i, r in enumerate(records) if "request_id" in r)
    start = records[:first_request]
    assert any("matcher started" in r["message"] for r in start)
    assert [r for r in start if r["level"] not in ("INFO", "DEBUG")] == []


def test_a_line_of_each_stage_carries_the_order_id(run: Run) -> None:
    records = [json.loads(line) for line in run.logs]
    stages = {r["message"] for r in records if r.get("order_id") == run.traced_order}
    assert {
        "order accepted",  # intake, over HTTP (with its request id)
        "command sent",  # to the bus
        "command journaled",  # the matcher
        "order projected",  # the projector
        "feed message sent",  # the live feed to its owner
    } <= stages
    accepted = next(
        r for r in records if r["message"] == "order accepted" and r["order_id"] == run.traced_order
    )
    assert accepted["request_id"]
    journaled = next(
        r
        for r in records
        if r["message"] == "command journaled" and r["order_id"] == run.traced_order
    )
    assert journaled["command_id"] == f"{run.traced_order}.new" and journaled["seq"] >= 1


def test_no_api_key_appears_in_the_logs_of_the_whole_run(run: Run) -> None:
    text = "\n".join(run.logs)
    for key in run.keys:
        assert key not in text
        assert key[4:] not in text
    # Nor any other key of the system's format (the load generator's accounts included).
    assert re.search(r"(oms|adm)_[A-Za-z0-9_-]{16,}", text) is None
    # The keys the run printed for its user went to stdout, not into the log.
    assert run.process.keys()["admin"] in run.stdout
