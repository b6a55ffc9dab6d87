"""The trading page in headless Chromium against the whole local run: two traders in two
browser contexts trade through the order ticket and watch it happen live (no reload), a
replace and a cancel by button, a risk refusal shown next to its field, and a sequence gap
on the live feed re-synced over REST. No console error and no request off the OMS."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.support import Account, LocalOms
from tests.web.support import TraderPage, rows_of, sign_in

SYMBOL = "AAPL"
MAX_ORDER_NOTIONAL = "100000"


async def trader(oms: LocalOms, name: str) -> Account:
    body = {"name": name, "type": "live", "risk_limits": {"max_order_notional": MAX_ORDER_NOTIONAL}}
    response = await oms.http.post(
        "/api/admin/accounts", json=body, headers={"X-API-Key": oms.keys.admin}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return Account(created["account"]["account_id"], created["api_key"])


async def fill_ticket(page: Page, **fields: str) -> None:
    ticket = page.get_by_role("form", name="Order ticket")
    labels = {
        "symbol": "Symbol",
        "side": "Side",
        "type": "Type",
        "time_in_force": "Time in force",
    }
    for name, value in fields.items():
        if name in labels:
            await ticket.get_by_label(labels[name], exact=True).select_option(value)
    texts = {
        "quantity": "Quantity",
        "limit_price": "Limit price",
        "stop_price": "Stop price",
        "client_order_id": "Client order id",
    }
    for name, value in fields.items():
        if name in texts:
            await ticket.get_by_label(texts[name], exact=True).fill(value)


async def place(page: Page, **fields: str) -> None:
    await fill_ticket(page, **fields)
    await (
        page.get_by_role("form", name="Order ticket")
        .get_by_role("button", name="Place order")
        .click()
    )


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_two_traders_trade_through_the_page_live(
    browser: Browser, oms: LocalOms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await trader(oms, "alice"), await trader(oms, "bob")
    a = await sign_in(browser, oms.url, alice.key)
    b = await sign_in(browser, oms.url, bob.key)
    pa, pb = a.page, b.page
    # The key is kept in the tab's session storage, never in the URL.
    assert await pa.evaluate("sessionStorage.getItem('oms.apiKey')") == alice.key
    assert alice.key not in pa.url and pa.url == f"{oms.url}/"
    await expect(pa.get_by_role("heading", name="Admin")).to_have_count(0)  # traders only
    await expect(pa.get_by_role("region", name="Order book")).to_contain_text(
        "No orders in the book"
    )

    # Nothing in the ticket reads "null" or "undefined" (an absent part written as text).
    await expect(pa.get_by_role("form", name="Order ticket")).not_to_contain_text(
        re.compile(r"\bnull\b|\bundefined\b")
    )

    # Alice's limit buy through the ticket: in her open orders, and in Bob's book, live.
    await place(
        pa,
        symbol=SYMBOL,
        side="buy",
        type="limit",
        quantity="10",
        limit_price="190.00",
        time_in_force="gtc",
        client_order_id="alice-buy-1",
    )
    buy_row = rows_of(pa, "Open orders", "alice-buy-1")
    await expect(buy_row).to_contain_text("New")
    bob_book = pb.get_by_role("region", name="Order book")
    await expect(bob_book.get_by_role("button", name="190.00")).to_be_visible()

    # Bob clicks the bid in his book (the price goes into his ticket) and sells into it.
    await bob_book.get_by_role("button", name="190.00").click()
    bob_ticket = pb.get_by_role("form", name="Order ticket")
    await expect(bob_ticket.get_by_label("Limit price", exact=True)).to_have_value("190.00")
    await place(pb, side="sell", quantity="4", client_order_id="bob-sell-1")
    await expect(rows_of(pb, "Executions", "bob-sell-1")).to_contain_text("190.00")

    # Alice sees the fill, her position, the book and the tape change, without a reload.
    await expect(rows_of(pa, "Executions", "alice-buy-1")).to_contain_text("190.00")
    await expect(buy_row).to_contain_text("Partially filled")
    await expect(rows_of(pa, "Positions", SYMBOL)).to_contain_text("4")
    await money_after_the_fill(pa)
    await expect(rows_of(pa, "Trades", "190.00")).to_contain_text("4")
    alice_book = pa.get_by_role("region", name="Order book")
    bid = alice_book.get_by_role("row").filter(has=pa.get_by_role("button", name="190.00"))
    await expect(bid).to_contain_text("6")
    await expect(pa.get_by_role("log", name="Activity")).to_contain_text("Fill: buy 4 AAPL")

    # Replace in place: 8 in all (4 filled) at 190.01.
    await buy_row.get_by_role("button", name="Replace").click()
    await pa.get_by_label("New quantity for alice-buy-1").fill("8")
    await pa.get_by_label("New limit price for alice-buy-1").fill("190.01")
    await buy_row.get_by_role("button", name="Save").click()
    await expect(buy_row).to_contain_text("190.01")
    await expect(buy_row.get_by_role("cell").nth(4)).to_have_text("8")
    await expect(alice_book.get_by_role("button", name="190.01")).to_be_visible()

    # Cancel by button: it leaves the open orders; the Orders table shows it canceled.
    await buy_row.get_by_role("button", name="Cancel").click()
    await expect(buy_row).to_have_count(0)
    await (
        pa.get_by_role("group", name="Order filters")
        .get_by_label("Status")
        .select_option("canceled")
    )
    await expect(rows_of(pa, "Orders", "alice-buy-1")).to_contain_text("Canceled")
    await expect(alice_book).to_contain_text("No orders in the book")

    # A risk refusal: its reason is text next to the field it names, for Preview and Place.
    ticket = pa.get_by_role("form", name="Order ticket")
    await fill_ticket(pa, side="buy", quantity="1000", limit_price="190.00", client_order_id="")
    await ticket.get_by_role("button", name="Preview").click()
    checks = ticket.get_by_role("region", name="Pre-trade checks")
    await expect(checks).to_contain_text("NOTIONAL_EXCEEDS_LIMIT")
    # Every check with its outcome: the ones that pass and the one that fails, its reason
    # and figures, and the field it names.
    items = checks.get_by_role("list", name="Pre-trade checks").get_by_role("listitem")
    notional = items.filter(has_text="Max order notional")
    await expect(notional).to_contain_text("Failed")
    await expect(notional).to_contain_text("(Quantity)")
    await expect(notional).to_contain_text(
        f"notional 190000.00 is above the limit {MAX_ORDER_NOTIONAL}"
    )
    for passed in ("Instrument trading state", "Price collar", "Quantity bounds", "Limit price"):
        await expect(items.filter(has_text=re.compile(f"^Passed {passed} "))).to_have_count(1)
    collar = items.filter(has_text="Price collar")
    await expect(collar).to_contain_text("190 is within 1000 bps of 190")
    assert await items.filter(has_text=re.compile("^Passed")).count() >= 10
    quantity = ticket.get_by_label("Quantity", exact=True)
    await expect(quantity).to_have_accessible_description(re.compile("NOTIONAL_EXCEEDS_LIMIT"))
    await ticket.get_by_role("button", name="Place order").click()
    await expect(quantity).to_have_attribute("aria-invalid", "true")
    description = ticket.locator(f"#{await quantity.get_attribute('aria-describedby')}")
    await expect(description).to_be_visible()
    await expect(description).to_contain_text(f"above the limit {MAX_ORDER_NOTIONAL}")

    await sequence_gap_is_resynced(a, oms, alice, monkeypatch)

    await pa.screenshot(path=tmp_path / "trading.png", full_page=True)
    assert a.problems(refused_orders=1) == []
    assert b.problems() == []
    await a.context.close()
    await b.context.close()


async def money_after_the_fill(page: Page) -> None:
    """Alice (no cash, a credit limit) bought 4 at 190.00 as the maker (no fee): the money
    and the position's P&L columns show it, live."""
    money = page.get_by_role("region", name="Account money")

    def figure(label: str) -> Any:
        item = money.locator(".money-item").filter(has=page.get_by_text(label, exact=True))
        return item.get_by_role("definition")

    await expect(figure("Cash")).to_have_text(re.compile(r"^-760(\.0+)?$"))
    await expect(figure("Long market value")).to_have_text(re.compile(r"^760(\.0+)?$"))
    await expect(figure("Equity")).to_have_text(re.compile(r"^0(\.0+)?$"))
    await expect(figure("Unrealized P&L")).to_be_visible()
    await expect(figure("Buying power")).to_be_visible()
    positions = page.get_by_role("table", name="Positions", exact=True)
    for column in ("Cost basis", "Market value", "Unrealized P&L", "Realized P&L", "Fees"):
        await expect(positions.get_by_role("columnheader", name=column, exact=True)).to_be_visible()
    row = rows_of(page, "Positions", SYMBOL)
    header = positions.get_by_role("columnheader")
    names = [name.strip() for name in await header.all_inner_texts()]
    cells = row.get_by_role("cell")
    await expect(cells.nth(names.index("Cost basis"))).to_have_text(re.compile(r"^760(\.0+)?$"))
    await expect(cells.nth(names.index("Market value"))).to_have_text(re.compile(r"^760(\.0+)?$"))


async def sequence_gap_is_resynced(
    a: TraderPage, oms: LocalOms, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages to Alice lost on the way (the hub drops them): her page learns of the
    hidden order only through the REST re-sync that the next message's jump in seq starts."""
    hub = oms.run.hub
    assert hub is not None
    deliver = hub.send_to_user
    dropped: list[str] = []
    dropping = True

    def lossy(hub_name: str, user_id: str, target: str, args: Any) -> int:
        if dropping and user_id == alice.account_id:
            dropped.append(target)
            return 0
        return deliver(hub_name, user_id, target, args)

    monkeypatch.setattr(hub, "send_to_user", lossy)
    hidden = await oms.place(alice, SYMBOL, "buy", "1", "189.00")

    async def hidden_is_new_and_its_update_lost() -> bool:
        got = await oms.http.get(f"/api/orders/{hidden['order_id']}", headers=alice.headers)
        return got.json()["status"] == "new" and "orderUpdated" in dropped

    await eventually(hidden_is_new_and_its_update_lost)
    await asyncio.sleep(0.3)
    open_orders = a.page.get_by_role("table", name="Open orders", exact=True)
    await expect(open_orders).not_to_contain_text(hidden["client_order_id"])

    dropping = False
    after = await oms.place(alice, SYMBOL, "buy", "1", "188.00")
    activity = a.page.get_by_role("log", name="Activity")
    await expect(activity).to_contain_text("Sequence gap on the account stream")
    await expect(activity).to_contain_text("Re-synced over REST")
    await expect(open_orders).to_contain_text(hidden["client_order_id"])
    await expect(open_orders).to_contain_text(after["client_order_id"])
