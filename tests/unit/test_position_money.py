"""Position money, worked by hand: average cost, realized and unrealized P&L, fees, cash,
equity, a flip from long to short in one fill, P&L today and settlement days.

The instrument: tick 0.01, lot 1 (so one tick x lot is one cent and one fee unit is
0.00000001). Every figure below is worked out in the comments, in dollars.
"""

from __future__ import annotations

from decimal import Decimal

from shared.domain.positions import (
    NS_PER_DAY,
    Fill,
    Position,
    after_fill,
    date_of,
    div_half_even,
    grid_of,
    settled_early,
    settlement_day,
    utc_day,
    value,
)

GRID = grid_of(Decimal("0.01"), Decimal("1"))
MONDAY = utc_day(1_714_953_600 * 10**9)  # 2024-05-06, a Monday
T = MONDAY * NS_PER_DAY + 14 * 3_600 * 10**9  # 14:00 UTC that Monday
CENT_FEE = 1_000_000  # fee units in one cent


def fill(side: str, quantity: int, dollars: str, fee_cents: int, ts: int = T) -> Fill:
    ticks = int(Decimal(dollars) / GRID.tick_size)
    return Fill(side == "buy", quantity, ticks, fee_cents * CENT_FEE, ts, MONDAY)


def run(*fills: Fill) -> Position:
    position = Position("acc", "ABC")
    for f in fills:
        position = after_fill(position, f)
    return position


BUY_10_AT_100 = fill("buy", 10, "100.00", 50)  # fee 0.50
BUY_5_AT_103 = fill("buy", 5, "103.00", 25)  # fee 0.25
SELL_6_AT_104 = fill("sell", 6, "104.00", 30)  # fee 0.30
SELL_12_AT_98_50 = fill("sell", 12, "98.50", 60)  # fee 0.60: closes 9 long, opens 3 short


def test_a_buy_in_two_fills_averages_its_cost():
    position = run(BUY_10_AT_100, BUY_5_AT_103)
    money = value(position, GRID, mark=10_200, start_mark=10_200, today=MONDAY)

    # cost 10 x 100 + 5 x 103 = 1515.00 for 15: average 101.00
    assert position.net_quantity == 15
    assert money.cost_basis == Decimal("1515.00")
    assert money.average_entry_price == Decimal("101.00")
    # at 102: worth 1530.00, unrealized 1530.00 - 1515.00 = 15.00; nothing realized
    assert money.market_value == Decimal("1530.00")
    assert money.unrealized_pnl == Decimal("15.00")
    assert money.realized_pnl == 0
    # fees 0.50 + 0.25; cash paid 1515.00 + 0.75
    assert money.fees == Decimal("0.75")
    assert money.cash_flow == Decimal("-1515.75")


def test_a_partial_sell_realizes_against_the_average_cost():
    position = run(BUY_10_AT_100, BUY_5_AT_103, SELL_6_AT_104)
    money = value(position, GRID, mark=10_200, start_mark=10_200, today=MONDAY)

    # 6 of 15 closed: cost out 1515.00 x 6/15 = 606.00; realized 6 x 104 - 606 = 18.00
    assert money.realized_pnl == Decimal("18.00")
    # left: 9 at 101.00 (cost 909.00); at 102 worth 918.00, unrealized 9.00
    assert (position.net_quantity, money.cost_basis) == (9, Decimal("909.00"))
    assert money.average_entry_price == Decimal("101.00")
    assert money.unrealized_pnl == Decimal("9.00")
    # fees 0.75 + 0.30 = 1.05; net P&L 18.00 - 1.05
    assert money.fees == Decimal("1.05")
    assert money.realized_pnl - money.fees == Decimal("16.95")
    # cash: -1515.00 + 624.00 - 1.05
    assert money.cash_flow == Decimal("-892.05")


def test_a_flip_from_long_to_short_in_one_fill_with_fees_on_both_sides():
    position = run(BUY_10_AT_100, BUY_5_AT_103, SELL_6_AT_104, SELL_12_AT_98_50)
    money = value(position, GRID, mark=9_700, start_mark=9_700, today=MONDAY)

    # The sell of 12 at 98.50 closes the 9 left (cost 909.00): realized 9 x 98.50 - 909.00
    # = 886.50 - 909.00 = -22.50, so 18.00 - 22.50 = -4.50 in all; then 3 short at 98.50.
    assert money.realized_pnl == Decimal("-4.50")
    assert position.net_quantity == -3
    assert money.cost_basis == Decimal("-295.50")
    assert money.average_entry_price == Decimal("98.50")
    # at 97.00 the short is worth -291.00: unrealized -291.00 - (-295.50) = 4.50
    assert money.market_value == Decimal("-291.00")
    assert money.unrealized_pnl == Decimal("4.50")
    # fees 0.50 + 0.25 + 0.30 + 0.60 = 1.65, paid on buys and sells alike
    assert money.fees == Decimal("1.65")
    # cash: -1000.00 - 515.00 + 624.00 + 1182.00 - 1.65 = 289.35
    assert money.cash_flow == Decimal("289.35")
    # With 10,000.00 deposited: cash 10,289.35, equity 10,289.35 - 291.00 = 9,998.35,
    # which is 10,000.00 + realized (-4.50) + unrealized (4.50) - fees (1.65).
    cash = Decimal("10000.00") + money.cash_flow
    equity = cash + money.market_value
    assert (cash, equity) == (Decimal("10289.35"), Decimal("9998.35"))
    assert equity == Decimal("10000.00") + money.realized_pnl + money.unrealized_pnl - money.fees
    assert (position.bought_quantity, position.sold_quantity) == (15, 18)


def test_covering_a_short_realizes_the_other_way_and_closes_flat():
    # short 3 at 98.50 (cost -295.50), buy 3 back at 97.00: realized 295.50 - 291.00 = 4.50
    position = run(fill("sell", 3, "98.50", 0), fill("buy", 3, "97.00", 0))
    money = value(position, GRID, mark=9_000, start_mark=9_000, today=MONDAY)

    assert (position.net_quantity, position.cost) == (0, 0)
    assert money.realized_pnl == Decimal("4.50")
    assert money.average_entry_price is None
    assert money.market_value == money.unrealized_pnl == 0


def test_an_average_that_does_not_terminate_rounds_the_cost_taken_out_half_to_even():
    # 1 at 100.00 and 2 at 100.01: cost 300.02 for 3, average 100.00666...
    position = run(fill("buy", 1, "100.00", 0), fill("buy", 2, "100.01", 0))
    sold = after_fill(position, fill("sell", 1, "101.00", 0))
    money = value(sold, GRID, mark=10_100, start_mark=10_100, today=MONDAY)

    # cost out 300.02 / 3 = 100.006666... -> 100.01 (to the cent); realized 101.00 - 100.01
    assert money.realized_pnl == Decimal("0.99")
    # what is left carries the rest of the cost exactly: 300.02 - 100.01 = 200.01
    assert money.cost_basis == Decimal("200.01")
    # realized + unrealized is the exact money made, whatever the rounding split:
    # 101.00 + 2 x 101.00 - 300.02 = 2.98
    assert money.realized_pnl + money.unrealized_pnl == Decimal("2.98")
    assert [div_half_even(n, 2) for n in (1, 3, 5, -1, -3)] == [0, 2, 2, 0, -2]


def test_pnl_today_counts_the_days_cash_and_the_change_in_value_of_what_is_held():
    friday_close = T - 3 * NS_PER_DAY  # Friday: bought 10 at 100.00
    position = run(fill("buy", 10, "100.00", 0, friday_close))
    position = after_fill(position, fill("sell", 4, "103.00", 10))  # Monday, fee 0.10

    # Monday started with 10 held at a mark of 101.00 (1010.00); now 6 held at 102.00
    # (612.00), and the day's fills brought 412.00 - 0.10: 412.00 - 0.10 + 612.00 - 1010.00
    money = value(position, GRID, mark=10_200, start_mark=10_100, today=MONDAY)
    assert money.pnl_today == Decimal("13.90")
    # On Tuesday (no fill yet) the day starts from the 6 held.
    tuesday = value(position, GRID, mark=10_300, start_mark=10_200, today=MONDAY + 1)
    assert tuesday.pnl_today == Decimal("6.00")


def test_settlement_days_skip_weekends_and_cash_is_unsettled_until_then():
    friday = T - 3 * NS_PER_DAY
    assert date_of(settlement_day(friday, 1)) == "2024-05-06"  # Friday T+1: Monday
    assert date_of(settlement_day(friday, 2)) == "2024-05-07"
    assert date_of(settlement_day(T, 0)) == "2024-05-06"  # T+0: the trade day
    sale = Fill(False, 2, 10_000, 5 * CENT_FEE, T, settlement_day(T, 1))
    position = after_fill(Position("acc", "ABC"), sale)

    # sold 2 at 100.00, fee 0.05: 199.95 arrives Tuesday
    monday = value(position, GRID, 10_000, 10_000, today=MONDAY)
    assert (monday.cash_flow, monday.unsettled_cash) == (Decimal("199.95"), Decimal("199.95"))
    assert value(position, GRID, 10_000, 10_000, today=MONDAY + 1).unsettled_cash == 0
    # settled by hand before its day: nothing left unsettled, the cash itself unchanged
    early = settled_early(position, MONDAY + 1, 20_000, 5 * CENT_FEE)
    assert early.unsettled == ()
    # a later fill drops the buckets its own day has settled
    later = after_fill(position, Fill(True, 1, 10_000, 0, T + NS_PER_DAY, MONDAY + 2))
    assert later.unsettled == ((MONDAY + 2, -10_000, 0),)
