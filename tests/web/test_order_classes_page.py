"""Order classes through the page: a bracket placed with the ticket (its exits in their own
fieldset), its legs in the blotter held until the entry fills, then live."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.e2e.support import LocalOms
from tests.web.support import rows_of, sign_in
from tests.web.test_trading_page import fill_ticket, trader

SYMBOL = "AAPL"


async def test_a_bracket_through_the_ticket_holds_its_exits_until_the_entry_fills(
    browser: Browser, oms: LocalOms
) -> None:
    carol, dave = await trader(oms, "carol"), await trader(oms, "dave")
    c = await sign_in(browser, oms.url, carol.key)
    page = c.page
    ticket = page.get_by_role("form", name="Order ticket")
    exits = ticket.get_by_role("group", name="Exits (bracket, OCO, OTO)")
    take_profit = exits.get_by_label("Take profit limit price", exact=True)
    stop = exits.get_by_label("Stop loss stop price", exact=True)
    order_class = ticket.get_by_label("Order class", exact=True)
    await expect(order_class).to_have_value("simple")  # the API's default
    await expect(take_profit).to_be_disabled()  # a simple order has no exits
    await fill_ticket(
        page,
        symbol=SYMBOL,
        side="buy",
        type="limit",
        quantity="10",
        limit_price="190.00",
        time_in_force="gtc",
        client_order_id="carol-bracket",
    )
    await order_class.select_option("bracket")
    await expect(take_profit).to_be_enabled()
    await take_profit.fill("195.00")
    await stop.fill("185.00")
    await expect(ticket.get_by_label("Trail amount", exact=True)).to_be_disabled()

    # Preview: the group's checks pass.
    await ticket.get_by_role("button", name="Preview").click()
    checks = ticket.get_by_role("region", name="Pre-trade checks")
    await expect(checks).to_contain_text("Accepted: every pre-trade check passed.")

    await ticket.get_by_role("button", name="Place order").click()
    await expect(ticket.get_by_role("status")).to_contain_text("Bracket with 2 exit(s)")
    entry = rows_of(page, "Open orders", "carol-bracket")
    await expect(entry.filter(has_text="Bracket · entry")).to_contain_text("New")
    profit_leg = rows_of(page, "Open orders", "Bracket · take profit")
    stop_leg = rows_of(page, "Open orders", "Bracket · stop loss")
    await expect(profit_leg).to_contain_text("Held")
    await expect(profit_leg).to_contain_text("195.00")
    await expect(stop_leg).to_contain_text("Held")
    await expect(stop_leg).to_contain_text("185.00")

    # Dave sells into the entry: it fills, and the exits go live (the take-profit rests).
    await oms.place(dave, SYMBOL, "sell", "10", "190.00")
    await expect(rows_of(page, "Executions", "carol-bracket")).to_contain_text("190.00")
    await expect(entry.filter(has_text="Bracket · entry")).to_have_count(0)  # filled
    await expect(profit_leg).to_contain_text("New")
    await expect(stop_leg).not_to_contain_text("Held")
    book = page.get_by_role("region", name="Order book")
    await expect(book.get_by_role("button", name="195.00")).to_be_visible()
    await expect(rows_of(page, "Positions", SYMBOL)).to_contain_text("10")
    assert c.problems() == []
    await c.context.close()
