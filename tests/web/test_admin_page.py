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
