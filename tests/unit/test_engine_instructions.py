"""Icebergs, trailing stops, post-only, reduce-only, STP decrement, fee changes and the
time in force the venues refuse, on the internal venue, as a trader would see them."""

from __future__ import annotations

from shared.domain.events import (
    InstrumentConfigured,
    OrderFilled,
    OrderTriggered,
    ReplaceRejected,
)
from tests.support.desk import Desk, accepted, ended, fills, moved, rejected, replaced, restated

# ------------------------------------------------------------------------- iceberg


def test_an_iceberg_shows_only_its_displayed_part() -> None:
    d = Desk()
    d.order("i", "sell", 10, price=100, display_qty=3)
    assert d.venues.depth(5) == ([], [(100, 3, 1)])


def test_an_iceberg_refill_goes_to_the_back_of_its_price_level() -> None:
    d = Desk()
    d.order("i", "sell", 10, price=100, display_qty=3)
    d.order("p", "sell", 5, price=100)
    out = d.order("b1", "buy", 4, price=100)
    assert [(o, q) for o, q, _ in fills(out) if o != "b1"] == [("i", 3), ("p", 1)]
    assert d.venues.depth(1)[1] == [(100, 7, 2)]  # p's 4 and i's next 3
    out = d.order("b2", "buy", 12, price=100)
    assert [(o, q) for o, q, _ in fills(out) if o != "b2"] == [
        ("p", 4),
        ("i", 3),
        ("i", 3),
        ("i", 1),
    ]


def test_fok_counts_an_icebergs_hidden_part() -> None:
    d = Desk()
    d.order("i", "sell", 10, price=100, display_qty=3)
    out = d.order("f", "buy", 10, price=100, tif="fok")
    assert [q for o, q, _ in fills(out) if o == "f"] == [3, 3, 3, 1]
    assert out[-1].status == "filled"


def test_fok_does_not_count_what_an_own_order_would_stop() -> None:
    d = Desk()
    d.order("i", "sell", 6, price=100, display_qty=2, account="a")
    d.order("own", "sell", 5, price=100, account="me")
    out = d.order("f", "buy", 6, price=100, tif="fok", account="me")
    assert fills(out) == []  # after i's first 2, the queue reaches "own" before i's refill
    assert ended(out) == [("f", "FOK_NOT_FILLABLE", 6)]


def test_an_iceberg_quantity_down_keeps_its_place_and_shows_at_most_what_is_left() -> None:
    d = Desk()
    d.order("i", "sell", 10, price=100, display_qty=4)
    d.order("p", "sell", 5, price=100)
    out = d.replace("i", "acct-i", quantity=2)
    assert replaced(out)[0].priority_kept
    assert d.venues.depth(1)[1] == [(100, 7, 2)]
    out = d.order("b", "buy", 2, price=100)
    assert fills(out)[0] == ("i", 2, 100)


# ------------------------------------------------------------------------- trailing stop


def test_a_sell_trailing_stop_follows_the_highest_trade_and_triggers_as_a_market_order() -> None:
    d = Desk()
    d.trade(100)
    out = d.order("ts", "sell", 2, kind="trailing_stop", trail_amount=3)
    assert [(e.order_id, e.stop_price) for e in out if e.KIND == "order_accepted"] == [("ts", 97)]
    assert moved(d.trade(105)) == [("ts", 102, 105)]
    assert moved(d.trade(103)) == []  # lower trades never move a sell's stop down
    d.order("bid", "buy", 5, price=90, account="deep")
    out = d.trade(102)
    trig = [e for e in out if isinstance(e, OrderTriggered)]
    assert [(e.order_id, e.order_type, e.trigger_px) for e in trig] == [("ts", "market", 102)]
    assert ("ts", 2, 90) in fills(out)


def test_a_buy_trailing_stop_in_percent_rounds_its_stop_up_to_the_tick() -> None:
    d = Desk()
    d.trade(1_000)
    out = d.order("ts", "buy", 1, kind="trailing_stop", trail_cbps=10_000)  # 1%
    assert [e.stop_price for e in out if e.KIND == "order_accepted"] == [1_010]
    assert moved(d.trade(990)) == [("ts", 1_000, 990)]  # 999.9 up to 1,000
    d.order("ask", "sell", 5, price=1_005, account="deep")
    out = d.trade(1_000)
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["ts"]


def test_a_trailing_stop_placed_before_any_trade_starts_at_the_first_trade() -> None:
    d = Desk()
    out = d.order("ts", "sell", 1, kind="trailing_stop", trail_amount=5)
    assert [e.stop_price for e in out if e.KIND == "order_accepted"] == [0]
    assert moved(d.trade(50)) == [("ts", 45, 50)]


def test_a_trailing_stop_sees_the_best_price_of_a_sweep_before_its_last() -> None:
    d = Desk()
    d.trade(100)
    d.order("ts", "sell", 1, kind="trailing_stop", trail_amount=2, account="owner")
    d.order("b1", "buy", 1, price=103, account="x")
    d.order("b2", "buy", 1, price=101, account="y")
    d.order("deep", "buy", 5, price=90, account="z")
    out = d.order("sweep", "sell", 2, price=101, account="w")  # trades at 103, then 101
    assert moved(out) == [("ts", 101, 103)]
    assert [e.order_id for e in out if isinstance(e, OrderTriggered)] == ["ts"]


def test_a_new_trail_moves_the_stop_from_the_same_high_water_mark() -> None:
    d = Desk()
    d.trade(100)
    d.order("ts", "sell", 1, kind="trailing_stop", trail_amount=3)
    d.trade(110)
    out = d.replace("ts", "acct-ts", trail_amount=5)
    assert replaced(out)[0].stop_price == 105
    out = d.replace("ts", "acct-ts", stop_price=90)
    assert isinstance(out[0], ReplaceRejected) and out[0].reason == "REPLACE_INVALID"


# ------------------------------------------------------------------------- post-only


def test_a_post_only_order_that_would_take_is_rejected_and_never_fills() -> None:
    d = Desk()
    d.order("ask", "sell", 5, price=101)
    assert rejected(d.order("po", "buy", 1, price=101, post_only=True)) == [
        ("po", "POST_ONLY_WOULD_TAKE")
    ]
    assert accepted(d.order("po2", "buy", 1, price=100, post_only=True))
    out = d.replace("po2", "acct-po2", price=102)
    assert isinstance(out[0], ReplaceRejected) and out[0].reason == "POST_ONLY_WOULD_TAKE"
    assert d.venues.depth(1) == ([(100, 1, 1)], [(101, 5, 1)])
    assert rejected(d.order("pm", "buy", 1, kind="market", post_only=True)) == [
        ("pm", "POST_ONLY_NOT_LIMIT")
    ]


# ------------------------------------------------------------------------- reduce-only


def buy_position(d: Desk, account: str, qty: int, price: int = 100) -> None:
    d.order(f"ask-{account}-{d.ts}", "sell", qty, price=price, account="dealer")
    d.order(f"buy-{account}-{d.ts}", "buy", qty, price=price, account=account)


def test_reduce_only_may_only_close_what_the_account_holds_counting_its_open_ones() -> None:
    d = Desk()
    assert rejected(d.order("r0", "sell", 1, price=110, account="me", reduce_only=True)) == [
        ("r0", "REDUCE_ONLY_WOULD_INCREASE")
    ]
    buy_position(d, "me", 10)
    assert accepted(d.order("r1", "sell", 10, price=110, account="me", reduce_only=True))
    for n in (2, 3):  # three sells of the whole position: only the first one fits
        out = d.order(f"r{n}", "sell", 10, price=111, account="me", reduce_only=True)
        assert rejected(out) == [(f"r{n}", "REDUCE_ONLY_WOULD_INCREASE")]
    assert rejected(d.order("rb", "buy", 1, price=90, account="me", reduce_only=True))


def test_when_fills_shrink_the_position_the_newest_reduce_only_orders_give_way() -> None:
    d = Desk()
    buy_position(d, "me", 10)
    d.order("old", "sell", 6, price=110, account="me", reduce_only=True)
    d.order("new", "sell", 4, price=111, account="me", reduce_only=True)
    d.order("bid", "buy", 5, price=99, account="dealer")
    out = d.order("dump", "sell", 5, kind="market", account="me")
    assert ended(out) == [("new", "REDUCE_ONLY_TRIMMED", 4)]
    assert restated(out) == [("old", "REDUCE_ONLY_TRIMMED", 5, 0, 1)]


def test_reduce_only_never_flips_a_position_even_within_one_sweep() -> None:
    d = Desk()
    buy_position(d, "me", 10)
    d.order("plain", "sell", 10, price=100, account="me")
    d.order("ro", "sell", 10, price=100, account="me", reduce_only=True)
    out = d.order("taker", "buy", 20, price=100, account="other")
    assert [o for o, _, _ in fills(out) if o != "taker"] == ["plain"]
    assert ended(out)[0] == ("ro", "REDUCE_ONLY_TRIMMED", 10)
    assert d.venues.book.net("me") == 0


# ------------------------------------------------------------------------- STP decrement


def test_decrement_reduces_the_larger_order_and_cancels_the_smaller_without_a_fill() -> None:
    d = Desk()
    d.order("rest", "sell", 10, price=100, account="me")
    out = d.order("take", "buy", 4, price=100, account="me", stp="decrement")
    assert fills(out) == []
    assert restated(out) == [("rest", "SELF_TRADE_DECREMENTED", 6, 0, 4)]
    assert ended(out) == [("take", "SELF_TRADE_PREVENTED", 4)]
    assert d.venues.depth(1)[1] == [(100, 6, 1)]

    d.order("other", "sell", 5, price=100, account="you")
    out = d.order("big", "buy", 9, price=100, account="me", stp="decrement")
    assert ended(out) == [("rest", "SELF_TRADE_PREVENTED", 6)]
    assert restated(out) == [("big", "SELF_TRADE_DECREMENTED", 3, 0, 6)]
    assert fills(out) == [("other", 3, 100), ("big", 3, 100)]

    d.order("r2", "sell", 2, price=99, account="me")
    out = d.order("eq", "buy", 2, price=99, account="me", stp="decrement")
    assert ended(out) == [("r2", "SELF_TRADE_PREVENTED", 2), ("eq", "SELF_TRADE_PREVENTED", 2)]


def test_a_replace_after_a_decrement_moves_the_open_quantity_by_the_difference() -> None:
    d = Desk()
    d.order("rest", "sell", 10, price=100, account="me")
    d.order("take", "buy", 4, price=100, account="me", stp="decrement")
    out = d.replace("rest", "me", quantity=8)  # 4 of 10 were canceled: 4 stay open
    assert (replaced(out)[0].quantity, replaced(out)[0].leaves_qty) == (8, 4)
    out = d.replace("rest", "me", quantity=4)
    assert isinstance(out[0], ReplaceRejected)
    assert out[0].reason == "REPLACE_QTY_AT_OR_BELOW_FILLED"


# ------------------------------------------------------------------------- instrument, tif


def test_new_fees_apply_from_the_configure_command_on_in_both_venues() -> None:
    d = Desk(maker=10, taker=20)
    d.trade(100)
    out = d.configure(1, 2)
    assert [(e.maker_fee_cbps, e.taker_fee_cbps) for e in out] == [(1, 2)]
    assert isinstance(out[0], InstrumentConfigured)
    out = d.trade(100)
    assert [e.fee for e in out if isinstance(e, OrderFilled)] == [100 * 1, 100 * 2]
    assert d.venues.simulator.config.taker_fee_cbps == 2


def test_at_the_open_and_at_the_close_are_refused_until_auctions_exist() -> None:
    d = Desk()
    for tif in ("opg", "cls"):
        out = d.order(f"o-{tif}", "buy", 1, price=100, tif=tif)
        assert rejected(out) == [(f"o-{tif}", "TIME_IN_FORCE_NOT_SUPPORTED")]
        out = d.order(f"p-{tif}", "buy", 1, price=100, tif=tif, venue="paper")
        assert rejected(out) == [(f"p-{tif}", "TIME_IN_FORCE_NOT_SUPPORTED")]


def test_day_icebergs_and_trailing_stops_expire_at_the_close_gtc_ones_stay() -> None:
    d = Desk()
    d.trade(100)
    d.order("ice", "sell", 10, price=105, display_qty=2, tif="day")
    d.order("trail", "sell", 1, kind="trailing_stop", trail_amount=3, tif="day")
    d.order("keep", "sell", 5, price=106, display_qty=1)
    out = d.expire(end_of_day=True)
    assert ended(out) == [("ice", "EXPIRED_DAY", 10), ("trail", "EXPIRED_DAY", 1)]
    assert d.venues.depth(5)[1] == [(106, 1, 1)]
