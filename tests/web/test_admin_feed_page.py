"""The admin panel is live (issue #18): an admin's page joins the admin feed with its own
SignalR connection, and audit entries recorded by anyone (another client's admin action, an
external venue over FIX) appear at the top of the audit list without a reload, filtered as
the list is; venue alerts are marked and noticed; entries lost on the way are recovered by
the REST re-sync that the next entry's jump in seq starts. A trader's page asks no admin
route and hears no audit entry."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.support import LocalOms
from tests.support.fix_exchange import FixExchange, eventually
from tests.web.support import rows_of, sign_in

pytestmark = pytest.mark.timeout(240)  # the FIX venue's QuickFIX threads: a hang shows stacks


async def new_account(oms: LocalOms, name: str) -> str:
    created = await oms.http.post(
        "/api/admin/accounts", json={"name": name, "type": "live"}, headers=admin_key(oms)
    )
    assert created.status_code == 201, created.text
    return str(created.json()["account"]["account_id"])


async def rename(oms: LocalOms, account_id: str, name: str) -> None:
    changed = await oms.http.patch(
        f"/api/admin/accounts/{account_id}", json={"name": name}, headers=admin_key(oms)
    )
    assert changed.status_code == 200, changed.text


def admin_key(oms: LocalOms) -> dict[str, str]:
    return {"X-API-Key": oms.keys.admin}


async def mark_document(page: Page) -> None:
    """A mark on the page's document: still there later means the page never reloaded."""
    await page.evaluate("window.__sameDocument = true")


async def assert_not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__sameDocument === true")


async def test_admin_actions_by_another_client_appear_live_filtered_and_a_gap_resyncs(
    browser: Browser, oms: LocalOms, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await sign_in(browser, oms.url, oms.keys.admin)
    page = admin.page
    audit = page.get_by_role("table", name="Audit", exact=True)
    rows = audit.locator("tbody tr")
    await expect(audit).to_be_visible()
    await mark_document(page)
    # The page joins the admin feed (its account, once for its connection).
    await eventually(lambda: "POST /api/admin/subscriptions" in admin.requests)

    # Another client (the API over HTTP) creates and renames an account: live, on top.
    account_id = await new_account(oms, "live-audit-1")
    await expect(rows.first).to_contain_text("account.created")
    await expect(rows.first).to_contain_text("live-audit-1")
    await rename(oms, account_id, "live-audit-1b")
    await expect(rows.first).to_contain_text("account.changed")
    await expect(rows.first).to_contain_text("name: live-audit-1 → live-audit-1b")
    created = rows.filter(has_text="account.created").filter(has_text="live-audit-1")
    await expect(created).to_have_count(1)  # each entry once

    # Filtered to renames: a new account is not one, a rename is (on top, live).
    filters = page.get_by_role("form", name="Audit filters")
    await filters.get_by_label("Action").fill("account.changed")
    await filters.get_by_role("button", name="Filter").click()
    await expect(rows.first).to_contain_text("live-audit-1b")
    other = await new_account(oms, "live-audit-2")
    await rename(oms, other, "live-audit-2b")
    await expect(rows.first).to_contain_text("name: live-audit-2 → live-audit-2b")
    await expect(audit).not_to_contain_text("account.created")

    # Entries lost on the way (the hub drops the admin group's messages): the next entry's
    # jump in seq re-syncs the list over REST, which brings the lost one back.
    hub = oms.run.hub
    assert hub is not None
    deliver = hub.send_to_group
    dropped: list[str] = []
    dropping = True

    def lossy(hub_name: str, group: str, target: str, args: Any) -> int:
        if dropping and group == "admin":
            dropped.append(target)
            return 0
        return deliver(hub_name, group, target, args)

    monkeypatch.setattr(hub, "send_to_group", lossy)
    await rename(oms, other, "live-audit-2-lost")
    await eventually(lambda: "auditRecorded" in dropped)  # (pushed after the answer)
    await asyncio.sleep(0.3)
    await expect(audit).not_to_contain_text("live-audit-2-lost")
    dropping = False
    await rename(oms, account_id, "live-audit-1-after")
    activity = page.get_by_role("log", name="Activity")
    await expect(activity).to_contain_text("Sequence gap on the admin stream")
    await expect(activity).to_contain_text("Audit list re-synced over REST")
    await expect(rows.first).to_contain_text("live-audit-1-after")
    await expect(audit).to_contain_text("live-audit-2-lost")

    await assert_not_reloaded(page)
    assert admin.problems() == []
    await admin.context.close()


async def define_fix_venue(oms: LocalOms, exchange: FixExchange, name: str) -> None:
    body = {
        "name": name,
        "kind": "fix",
        "host": "127.0.0.1",
        "port": exchange.fix_port,
        "sender_comp_id": exchange.target,
        "target_comp_id": exchange.sender,
        "heartbeat_seconds": 5,
    }
    created = await oms.http.post("/api/admin/venues", json=body, headers=admin_key(oms))
    assert created.status_code == 201, created.text

    async def connected() -> bool:
        listed = await oms.http.get("/api/admin/venues", headers=admin_key(oms))
        return any(v["name"] == name and v["state"] == "connected" for v in listed.json()["items"])

    await eventually(connected, timeout=60)


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[FixExchange]:
    """The FIX exchange simulator in its own process (QuickFIX acceptor on loopback)."""
    running = await FixExchange(tmp_path / "exchange", target="OMS-WEB").start()
    try:
        yield running
    finally:
        await running.stop()


async def test_an_order_the_venue_knows_and_we_do_not_is_a_marked_live_alert(
    browser: Browser, oms: LocalOms, exchange: FixExchange
) -> None:
    """For real, end to end: a FIX venue reports an order we never sent; the gateway, the
    matcher and the projector record the alert, and the admin's page shows it at once."""
    await define_fix_venue(oms, exchange, "fixweb")
    admin = await sign_in(browser, oms.url, oms.keys.admin)
    page = admin.page
    await mark_document(page)
    panel = page.get_by_role("region", name="Admin")
    await expect(panel.get_by_role("alert").filter(has_text="Venue alert")).to_have_count(0)

    foreign = await exchange.post("/foreign", symbol="AAPL", side="buy", quantity="7", price="150")
    cl_ord_id = foreign["cl_ord_id"]

    alert_row = rows_of(page, "Audit", cl_ord_id)
    await expect(alert_row).to_contain_text("venue.unknown_venue_order")
    await expect(alert_row).to_contain_text("venue:fixweb")
    await expect(alert_row).to_contain_text(re.compile(r"AAPL seq \d+"))  # where, not "created"
    await expect(alert_row).to_have_class("venue-alert")
    await expect(alert_row.get_by_text("Venue alert", exact=True)).to_be_visible()  # its badge
    notice = panel.get_by_role("list", name="Venue alerts").get_by_role("alert")
    await expect(notice).to_have_count(1)
    await expect(notice).to_contain_text("Venue alert: UNKNOWN_VENUE_ORDER")
    await expect(notice).to_contain_text(cl_ord_id)
    await expect(notice).to_contain_text("venue fixweb")
    await expect(page.get_by_role("log", name="Activity")).to_contain_text("Venue alert:")
    # An admin's own action on a venue is no alert.
    await expect(rows_of(page, "Audit", "venue.defined")).not_to_have_class("venue-alert")

    await notice.get_by_role("button", name="Dismiss").click()
    await expect(notice).to_have_count(0)
    await expect(alert_row).to_have_class("venue-alert")  # the list keeps it marked
    await assert_not_reloaded(page)
    assert admin.problems() == []
    await admin.context.close()


async def test_a_traders_page_asks_no_admin_route_and_hears_no_audit_entry(
    browser: Browser, oms: LocalOms
) -> None:
    trader_key = await oms.http.post(
        "/api/admin/accounts", json={"name": "no-admin", "type": "live"}, headers=admin_key(oms)
    )
    assert trader_key.status_code == 201, trader_key.text
    trader = await sign_in(browser, oms.url, trader_key.json()["api_key"], frames=True)
    admin = await sign_in(browser, oms.url, oms.keys.admin, frames=True)
    await expect(trader.page.get_by_role("heading", name="Admin")).to_have_count(0)

    await new_account(oms, "heard-by-admins-only")
    await expect(rows_of(admin.page, "Audit", "heard-by-admins-only")).to_be_visible()
    await eventually(lambda: any("auditRecorded" in f for f in admin.frames))
    await asyncio.sleep(0.5)  # the same push had every chance to reach the trader

    assert not any("auditRecorded" in f for f in trader.frames)
    assert any(f.startswith("POST /api/negotiate") for f in trader.requests)  # it was live
    assert [r for r in trader.requests if "/api/admin" in r] == []
    assert trader.problems() == []  # no 403 in its console
    await trader.context.close()
    await admin.context.close()
