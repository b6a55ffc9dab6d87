"""Swagger UI at /api/docs and the sign-in page render offline: every asset comes from the
OMS (requests anywhere else are blocked), with no console error."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.support import LocalOms
from tests.web.support import open_page


async def test_api_docs_render_from_local_assets(browser: Browser, oms: LocalOms) -> None:
    docs = await open_page(browser, oms.url)
    await docs.page.goto(f"{oms.url}/api/docs")
    await expect(docs.page.get_by_role("heading", name="OMS")).to_be_visible()
    await expect(docs.page.get_by_text("/api/orders/preview").first).to_be_visible()
    assert docs.problems() == []
    await docs.context.close()


async def test_sign_in_asks_for_a_key_in_words(browser: Browser, oms: LocalOms) -> None:
    visitor = await open_page(browser, oms.url)
    page = visitor.page
    await page.goto(f"{oms.url}/")
    key = page.get_by_label("API key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(key).to_have_accessible_description("Enter an API key.")
    assert await page.evaluate("sessionStorage.length") == 0
    assert visitor.problems() == []
    await visitor.context.close()
