"""Browser-test helpers: the system Chromium driven by Python's playwright, one fresh browser
context per signed-in trader, every request to another origin blocked (and recorded), and
every console error and uncaught exception recorded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Route,
    WebSocket,
    async_playwright,
    expect,
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium")
# As the machine notes prescribe: headless, no sandbox (root), and none of Chromium's own
# background traffic (it has no network here). Playwright adds a fresh user-data-dir.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1600, "height": 1000}
TIMEOUT_MS = 20_000  # generous: the machine may be busy; waits end as soon as they hold
expect.set_options(timeout=TIMEOUT_MS)

# The one kind of console entry a run may show: Chromium's own network log line for an
# order the API refused on purpose (a 422 the page shows as text next to the field).
REFUSED_ORDER = re.compile(r"^Failed to load resource: the server responded with a status of 422")


def ensure_web_built() -> None:
    """Build web/dist when it is missing (as `make test` does first)."""
    if (ROOT / "web/dist/manifest.json").is_file():
        return
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot build the web page (make web)")
    subprocess.run(["bash", str(ROOT / "scripts/build_web.sh"), "--required"], check=True)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: scripts/install_services.sh installs it")
    ensure_web_built()
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            yield browser
        finally:
            await browser.close()


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )


@dataclass
class TraderPage:
    """One browser context (its own session storage) on the OMS page."""

    context: BrowserContext
    page: Page
    origin: str
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # "METHOD /path" of each request made
    frames: list[str] = field(default_factory=list)  # WebSocket text received (if watched)

    def problems(self, refused_orders: int = 0) -> list[str]:
        """Console errors, uncaught exceptions and off-origin requests, less at most
        `refused_orders` network lines of orders the API refused on purpose."""
        found = [f"uncaught: {e}" for e in self.page_errors]
        found += [f"blocked request to {url}" for url in self.blocked]
        allowed = refused_orders
        for text, url in self.console_errors:
            if allowed and REFUSED_ORDER.match(text) and url == f"{self.origin}/api/orders":
                allowed -= 1
                continue
            found.append(f"console error: {text} ({url})")
        return found


async def open_page(browser: Browser, origin: str, *, frames: bool = False) -> TraderPage:
    """A fresh context on `origin`: requests anywhere else are aborted and recorded; with
    `frames`, every WebSocket text frame the page receives is kept too."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    trader = TraderPage(context, page, origin)

    async def only_the_oms(route: Route, request: Request) -> None:
        parts = urlsplit(request.url)
        trader.requests.append(f"{request.method} {parts.path}")
        if f"{parts.scheme}://{parts.netloc}" == origin or parts.scheme in ("data", "blob"):
            await route.continue_()
        else:
            trader.blocked.append(request.url)
            await route.abort("blockedbyclient")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            trader.console_errors.append((message.text, message.location.get("url", "")))

    def on_socket(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: trader.frames.append(str(payload)))

    await context.route("**/*", only_the_oms)
    if frames:
        page.on("websocket", on_socket)
    page.on("console", on_console)
    page.on("pageerror", lambda error: trader.page_errors.append(str(error)))
    return trader


async def sign_in(
    browser: Browser, origin: str, api_key: str, *, frames: bool = False
) -> TraderPage:
    """Open the page, sign in with `api_key` and wait until the live feeds are up."""
    trader = await open_page(browser, origin, frames=frames)
    page = trader.page
    await page.goto(f"{origin}/")
    await page.get_by_label("API key").fill(api_key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("status").filter(has_text="Live feeds: live").wait_for()
    return trader


def screenshot_path(default: Path) -> Path:
    """Where a test saves its screenshot: OMS_SCREENSHOT (make screenshot) or `default`."""
    target = os.environ.get("OMS_SCREENSHOT")
    path = ROOT / target if target else default
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def rows_of(page: Page, table: str, text: str) -> Any:
    """The rows of the table named `table` that contain `text`."""
    return (
        page.get_by_role("table", name=table, exact=True).get_by_role("row").filter(has_text=text)
    )
