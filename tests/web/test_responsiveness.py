"""The page stays responsive with the demo market running (`make run ARGS=--demo-market`,
started here the same way): it draws the book updates it receives, at least 10 a second,
while the tab's main thread is busy well under half the time. Measured in the browser over
several seconds and printed; the test also takes the README's screenshot (docs/page.png
with `make screenshot`).

Main-thread busy time is Chromium's own account (CDP `Performance.getMetrics`,
`TaskDuration`: every task the renderer's main thread ran); long tasks (> 50 ms) come from a
PerformanceObserver and frames from a requestAnimationFrame counter."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.redis_server import free_port
from tests.web.support import ROOT, rows_of, screenshot_path, sign_in

# The local run's entry point, with the option `make run ARGS=--demo-market` passes.
LOCAL_RUN = [sys.executable, "-m", "localrun", "--demo-market"]
WARM_UP_SECONDS = 2.0
MEASURE_SECONDS = 8.0
MIN_BOOK_RENDERS_PER_SECOND = 10.0
MAX_MAIN_THREAD_BUSY = 0.5

PROBES = """
window.__longTasks = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.__longTasks.count += 1;
    window.__longTasks.ms += entry.duration;
  }
}).observe({ type: "longtask", buffered: true });
window.__frames = 0;
const frame = () => { window.__frames += 1; requestAnimationFrame(frame); };
requestAnimationFrame(frame);
"""


@asynccontextmanager
async def demo_market_run(data: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """`python -m localrun --demo-market` on a free port; (its URL, its keys)."""
    port = free_port()
    env = {**os.environ, "OMS_HOST": "127.0.0.1", "OMS_PORT": str(port), "OMS_DATA_DIR": str(data)}
    log = data.parent / "demo-market-run.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *LOCAL_RUN, cwd=ROOT, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:
        for _ in range(300):
            if "OMS is running on" in log.read_text(errors="replace"):
                break
            assert proc.returncode is None, log.read_text(errors="replace")[-2000:]
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the local run did not start: {log.read_text()[-2000:]}")
        keys = json.loads((data / "local-keys.json").read_text())
        url = f"http://127.0.0.1:{port}"
        assert f"web page:    {url}/" in log.read_text(), "the banner names the page's URL"
        yield url, keys
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                with suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


async def snapshot(page: Page, cdp: Any) -> dict[str, float]:
    metrics = {m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]}
    probes: dict[str, float] = await page.evaluate(
        """() => ({
            booksReceived: window.omsPerf.booksReceived,
            bookRenders: window.omsPerf.bookRenders,
            draws: window.omsPerf.draws,
            drawMs: window.omsPerf.drawMs,
            longTasks: window.__longTasks.count,
            longTaskMs: window.__longTasks.ms,
            frames: window.__frames,
        })"""
    )
    return {**probes, "task": metrics["TaskDuration"], "wall": metrics["Timestamp"]}


async def test_page_keeps_up_with_the_demo_market(
    browser: Browser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with demo_market_run(tmp_path / "data") as (url, keys):
        trader = await sign_in_with_probes(browser, url, keys["live_key"])
        page = trader.page

        # Trade against the demo market maker through the ticket: a fill and a resting order.
        ticket = page.get_by_role("form", name="Order ticket")
        await ticket.get_by_label("Type", exact=True).select_option("market")
        await ticket.get_by_label("Time in force", exact=True).select_option("ioc")
        await ticket.get_by_label("Quantity", exact=True).fill("5")
        await ticket.get_by_role("button", name="Place order").click()
        await expect(rows_of(page, "Positions", "AAPL")).to_be_visible()
        await ticket.get_by_label("Type", exact=True).select_option("limit")
        await ticket.get_by_label("Time in force", exact=True).select_option("gtc")
        await ticket.get_by_label("Limit price", exact=True).fill("180.00")
        await ticket.get_by_role("button", name="Place order").click()
        await expect(rows_of(page, "Open orders", "180.00")).to_be_visible()

        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        await asyncio.sleep(WARM_UP_SECONDS)
        before = await snapshot(page, cdp)
        await asyncio.sleep(MEASURE_SECONDS)
        after = await snapshot(page, cdp)

        figures = measured(before, after)
        with capsys.disabled():  # the figure belongs in `make test`'s output
            print(
                "\nweb page under the demo market ({seconds:.1f} s): book renders {renders:.1f}/s"
                " (books received {received:.1f}/s), main thread busy {busy:.0%},"
                " long tasks {long_tasks:.0f} ({long_ms:.0f} ms), {fps:.0f} frames/s,"
                " draw {draw_ms:.2f} ms on average".format(**figures)
            )
        assert figures["renders"] >= MIN_BOOK_RENDERS_PER_SECOND, figures
        assert figures["busy"] < MAX_MAIN_THREAD_BUSY, figures

        await expect(page.get_by_role("region", name="Order book")).not_to_contain_text(
            "No orders in the book"
        )
        await page.screenshot(path=screenshot_path(tmp_path / "page.png"), full_page=True)
        assert trader.problems() == []
        await trader.context.close()


async def sign_in_with_probes(browser: Browser, url: str, key: str) -> Any:
    trader = await sign_in(browser, url, key)
    await trader.page.evaluate(PROBES)
    return trader


def measured(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    seconds = after["wall"] - before["wall"]

    def rate(name: str) -> float:
        return (after[name] - before[name]) / seconds

    draws = after["draws"] - before["draws"]
    return {
        "seconds": seconds,
        "renders": rate("bookRenders"),
        "received": rate("booksReceived"),
        "busy": (after["task"] - before["task"]) / seconds,
        "long_tasks": after["longTasks"] - before["longTasks"],
        "long_ms": after["longTaskMs"] - before["longTaskMs"],
        "fps": rate("frames"),
        "draw_ms": (after["drawMs"] - before["drawMs"]) / draws if draws else 0.0,
    }
