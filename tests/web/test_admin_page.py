"""Admin views on the page, for admin keys only: accounts, instruments' trading state and the
kill switch, which asks for a confirmation before it acts."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.support import LocalOms
from tests.web.support import rows_of, sign_in


async def test_kill_switch_asks_first_then_halts_and_resumes(
    browser: Browser, oms: LocalOms
) -> None:
    admin = await sign_in(browser, oms.url, oms.keys.admin)
    page = admin.page
    await expect(rows_of(page, "Accounts", "Administrator")).to_contain_text("admin")
    await expect(page.get_by_role("table", name="Audit", exact=True)).to_be_visible()
    msft = rows_of(page, "Instruments", "MSFT")
    msft_state = msft.get_by_role("cell").nth(4)  # Trading state
    await expect(msft_state).to_have_text("active")

    kill = page.get_by_role("form", name="Kill switch")
    await kill.get_by_label("Scope").select_option("instrument")
    await kill.get_by_label("Instrument").select_option("MSFT")
    await kill.get_by_label("State").select_option("halted")
    await kill.get_by_role("button", name="Apply").click()
    dialog = page.get_by_role("dialog", name="Confirm kill switch")
    await expect(dialog).to_contain_text("Set trading to HALTED for instrument MSFT")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(msft_state).to_have_text("active")  # nothing happened

    await kill.get_by_role("button", name="Apply").click()
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(msft_state).to_have_text("halted")
    await expect(rows_of(page, "Market watch", "MSFT")).to_contain_text("halted")
    stored = await oms.http.get("/api/instruments/MSFT", headers={"X-API-Key": oms.keys.admin})
    assert stored.json()["trading_state"] == "halted"
    await expect(page.get_by_role("log", name="Activity")).to_contain_text("Kill switch")
    # The audit trail shows who did it, to what, and the state before and after.
    halted = rows_of(page, "Audit", "kill_switch.instrument")
    await expect(halted).to_contain_text("MSFT")
    await expect(halted).to_contain_text("halted")

    # Resume from the instrument's own row.
    await msft.get_by_label("New trading state for MSFT").select_option("active")
    await msft.get_by_role("button", name="Set").click()
    await expect(dialog).to_contain_text("Set trading to ACTIVE for instrument MSFT")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(msft_state).to_have_text("active")
    assert admin.problems() == []
    await admin.context.close()


async def test_audit_list_filters_and_pages_through_admin_actions(
    browser: Browser, oms: LocalOms
) -> None:
    admin_key = {"X-API-Key": oms.keys.admin}
    names = [f"audited-{i:02d}" for i in range(23)]  # more than a page (20)
    for name in names:
        created = await oms.http.post(
            "/api/admin/accounts", json={"name": name, "type": "live"}, headers=admin_key
        )
        assert created.status_code == 201, created.text
    admin = await sign_in(browser, oms.url, oms.keys.admin)
    page = admin.page
    audit = page.get_by_role("table", name="Audit", exact=True)
    await expect(audit).to_contain_text("audited-22")  # the first page, loaded with the page
    filters = page.get_by_role("form", name="Audit filters")
    await filters.get_by_label("Action").fill("account.created")
    await filters.get_by_role("button", name="Filter").click()
    pages = page.get_by_role("navigation", name="Audit pages")
    await expect(pages).to_contain_text("Page 1")
    rows = audit.locator("tbody tr")
    await expect(rows).to_have_count(20)
    await expect(rows.first).to_contain_text("audited-22")  # newest first
    await expect(rows.first).to_contain_text("created")
    await expect(audit).not_to_contain_text("audited-00")
    await expect(pages.get_by_role("button", name="Newer")).to_be_disabled()

    await pages.get_by_role("button", name="Older").click()
    await expect(pages).to_contain_text("Page 2 (last)")
    await expect(audit).to_contain_text("audited-00")
    await expect(audit).not_to_contain_text("audited-22")
    await expect(pages.get_by_role("button", name="Older")).to_be_disabled()
    await pages.get_by_role("button", name="Newer").click()
    await expect(pages).to_contain_text("Page 1")
    await expect(rows.first).to_contain_text("audited-22")

    # An admin action on the page shows at the top of the list at once.
    await filters.get_by_label("Action").fill("")
    await filters.get_by_role("button", name="Filter").click()
    kill = page.get_by_role("form", name="Kill switch")
    await kill.get_by_label("Scope").select_option("instrument")
    await kill.get_by_label("Instrument").select_option("AAPL")
    await kill.get_by_label("State").select_option("reducing")
    await kill.get_by_role("button", name="Apply").click()
    await (
        page.get_by_role("dialog", name="Confirm kill switch")
        .get_by_role("button", name="Confirm")
        .click()
    )
    await expect(rows.first).to_contain_text("kill_switch.instrument")
    await expect(rows.first).to_contain_text("AAPL")
    await expect(rows.first).to_contain_text("active → reducing")
    await oms.http.post(
        "/api/admin/trading-state",
        json={"scope": "instrument", "symbol": "AAPL", "state": "active"},
        headers=admin_key,
    )
    assert admin.problems() == []
    await admin.context.close()
