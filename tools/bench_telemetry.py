"""What telemetry costs end to end: `python -m tools.bench_telemetry`.

Runs the load generator (tools.loadgen) against `python -m localrun`, started
afresh for each run, alternately with telemetry off and on, in the same invocation:
- off: OMS_METRICS=false and no exporter (no OpenTelemetry SDK imported);
- on: OMS_METRICS=true (the Prometheus registry, scraped every 5 s as a Prometheus would)
  and OTEL_EXPORTER_OTLP_ENDPOINT pointing at a local OTLP/HTTP sink started here (traces
  with the default sampler, metrics every 60 s), i.e. what a developer with a collector has.
  `--sampler always_on` traces every order instead (the cost of full tracing, for reference).

Prints a line per run and, last, one JSON object: the median of each mode, on/off ratios
of accepted and processed orders per second (of the medians, and the median of each round's
back-to-back pair; the issue's budget: within 10%), and the
server's CPU time per order (from /proc, where there is one): on a machine shared with other
work, throughput moves with the neighbours' load, the CPU an order costs much less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp import web

from tools import loadgen

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "accepted_per_sec",
    "processed_per_sec",
    "accept_p50_ms",
    "accept_p99_ms",
    "server_cpu_us_per_order",
)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


class OtlpSink:
    """Accepts OTLP/HTTP exports (traces, metrics) and counts them; decodes nothing."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _export(self, request: web.Request) -> web.Response:
        self.requests += 1
        self.bytes += len(await request.read())
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", self._export)
        app.router.add_post("/v1/metrics", self._export)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def local_run(env: dict[str, str]) -> AsyncIterator[tuple[str, str, int]]:
    """A fresh `python -m localrun` (empty data); yields its URL, admin key, pid."""
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as folder:
        port = _free_port()
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "OTEL_"))},
            "PYTHONPATH": str(ROOT),
            "OMS_PORT": str(port),
            "OMS_DATA_DIR": str(Path(folder) / "data"),
            **env,
        }
        log = Path(folder) / "localrun.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "localrun"],
                cwd=folder,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        keys = Path(folder) / "data" / "local-keys.json"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(600):
                    if process.poll() is not None:
                        raise SystemExit(f"the local run exited:\n{log.read_text()}")
                    try:
                        async with http.get(f"{url}/api/health") as r:
                            if r.status == 200 and "OMS is running" in log.read_text():
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
            yield url, json.loads(keys.read_text())["admin"], process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def scrape_every(url: str, seconds: float, stop: asyncio.Event) -> int:
    scrapes = 0
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            async with http.get(f"{url}/api/metrics") as r:
                await r.read()
                scrapes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
    return scrapes


async def one_run(mode: str, args: argparse.Namespace, sink: OtlpSink) -> dict[str, object]:
    env = {"OMS_METRICS": "false"}
    if mode == "on":
        env = {
            "OMS_METRICS": "true",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.port}",
        }
        if args.sampler:
            env["OTEL_TRACES_SAMPLER"] = args.sampler
    async with local_run(env) as (url, admin, pid):
        stop = asyncio.Event()
        scraper = asyncio.create_task(scrape_every(url, 5.0, stop)) if mode == "on" else None
        load = argparse.Namespace(
            url=url, admin_key=admin, symbol=args.symbol, rate=args.rate, seconds=args.seconds,
            concurrency=args.concurrency, accounts=args.accounts, seed=args.seed,
            wait_seconds=120.0,
        )  # fmt: skip
        cpu = cpu_seconds(pid)
        summary = await loadgen.main_async(load)
        cpu = cpu_seconds(pid) - cpu
        accepted = int(str(summary["accepted"]))
        summary["server_cpu_us_per_order"] = round(cpu / accepted * 1e6, 1) if accepted else 0.0
        stop.set()
        if scraper is not None:
            await scraper
    return summary


async def bench(args: argparse.Namespace) -> dict[str, object]:
    sink = OtlpSink()
    await sink.start()
    results: dict[str, list[dict[str, object]]] = {"off": [], "on": []}
    try:
        for round_ in range(args.rounds):
            for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                exported = sink.requests
                summary = await one_run(mode, args, sink)
                results[mode].append(summary)
                print(
                    f"round {round_ + 1} telemetry {mode:>3}: accepted "
                    f"{summary['accepted_per_sec']}/s (p50 {summary['accept_p50_ms']} ms, "
                    f"p99 {summary['accept_p99_ms']} ms), processed "
                    f"{summary['processed_per_sec']}/s, server CPU "
                    f"{summary['server_cpu_us_per_order']} us/order"
                    + (f", {sink.requests - exported} OTLP exports" if mode == "on" else ""),
                    flush=True,
                )
    finally:
        await sink.stop()
    medians = {
        mode: {f: statistics.median(float(str(r[f])) for r in runs) for f in FIGURES}
        for mode, runs in results.items()
    }
    return {
        "rate": args.rate,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "sampler": args.sampler or "microsoft.rate_limited (5 traces/s, the default)",
        "off": medians["off"],
        "on": medians["on"],
        # Each round's on/off pair ran back to back: the median of their ratios moves least
        # with the load of other work on the machine.
        "accepted_ratio_paired": _paired(results, "accepted_per_sec"),
        "processed_ratio_paired": _paired(results, "processed_per_sec"),
        "cpu_ratio_paired": _paired(results, "server_cpu_us_per_order"),
        "accepted_ratio_on_off": round(
            medians["on"]["accepted_per_sec"] / medians["off"]["accepted_per_sec"], 3
        ),
        "processed_ratio_on_off": round(
            medians["on"]["processed_per_sec"] / medians["off"]["processed_per_sec"], 3
        ),
        "cpu_ratio_on_off": round(
            medians["on"]["server_cpu_us_per_order"] / medians["off"]["server_cpu_us_per_order"],
            3,
        ),
        "all_processed": all(r["all_processed"] for runs in results.values() for r in runs),
        "otlp_exports": sink.requests,
        "otlp_bytes": sink.bytes,
    }


def _paired(results: dict[str, list[dict[str, object]]], figure: str) -> float:
    ratios = [
        float(str(on[figure])) / float(str(off[figure]))
        for on, off in zip(results["on"], results["off"], strict=True)
    ]
    return round(statistics.median(ratios), 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=4000.0, help="orders per second offered")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each mode, alternated")
    parser.add_argument("--symbol", default="AAPL")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--accounts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sampler", default="", help="OTEL_TRACES_SAMPLER for the 'on' runs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        import uvloop
    except ImportError:
        summary = asyncio.run(bench(args))
    else:
        summary = uvloop.run(bench(args))
    summary["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary))
    return 0 if summary["all_processed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
