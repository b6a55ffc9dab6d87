"""The engine's published rules, one scenario each, as a trader would observe them."""

from __future__ import annotations

from itertools import count
from typing import Any

from matcher.engine.engine import MatchingEngine
from shared.domain.commands import (
    CancelAll,
    CancelOrder,
    Command,
    ExpireOrders,
    NewOrder,
    ReplaceOrder,
    SetTradingState,
)
from shared.domain.events import (
    CancelRejected,
    Event,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReplaced,
    OrderTriggered,
    ReplaceRejected,
    TradingStateChanged,
)
from shared.domain.ids import execution_id, trade_id

_ids = count(1)


class Book:
    """A tiny driver: one engine, a clock, and helpers that return the events of a step."""

    def __init__(self, maker: int = 0, taker: int = 0) -> None:
        self.engine = MatchingEngine("XYZ", maker, taker)
        self.ts = 1_000

    def run(self, command: Command) -> list[Any]:
        out: list[Event] = []
        self.engine.handle(command, out)
        return out

    def order(
        self,
        order_id: str,
        side: str,
        qty: int,
        price: int = 0,
        kind: str = "limit",
        tif: str = "gtc",
        account: str | None = None,
        stop: int = 0,
        expire_at: int = 0,
        stp: str = "cancel_newest",
    ) -> list[Any]:
        self.ts += 1
        return self.run(
            NewOrder(
                str(next(_ids)),
                self.ts,
                "XYZ",
                order_id,
                account or f"acct-{order_id}",
                side,
                kind,
                tif,
                qty,
                price,
                stop,
                expire_at,
                stp,
            )
        )


def fills(events: list[Event]) -> list[tuple[str, int, int, str]]:
    return [
        (e.order_id, e.last_qty, e.last_px, e.liquidity)
        for e in events
        if isinstance(e, OrderFilled)
    ]


def test_best_price_first_then_time_priority_at_the_resting_price() -> None:
    b = Book()
    b.order("s1", "sell", 5, 101)
    b.order("s2", "sell", 5, 100)
    b.order("s3", "sell", 5, 100)
    out = b.order("buy", "buy", 12, 102)
    assert fills(out) == [
        ("s2", 5, 100, "maker"),
        ("buy", 5, 100, "taker"),
        ("s3", 5, 100, "maker"),
        ("buy", 5, 100, "taker"),
        ("s1", 2, 101, "maker"),
        ("buy", 2, 101, "taker"),
    ]
    assert out[-1].status == "filled"
    assert b.engine.depth(5) == ([], [(101, 3, 1)])


def test_partial_fill_rests_the_remainder_at_its_limit() -> None:
    b = Book()
    b.order("s1", "sell", 4, 100)
    out = b.order("b1", "buy", 10, 100)
    assert out[-1].status == "partially_filled" and out[-1].leaves_qty == 6
    assert b.engine.depth(1) == ([(100, 6, 1)], [])


def test_market_order_never_rests_and_its_remainder_is_canceled() -> None:
    b = Book()
    b.order("s1", "sell", 3, 100)
    out = b.order("m", "buy", 10, kind="market", tif="gtc")
    cancel = out[-1]
    assert isinstance(cancel, OrderCanceled)
    assert (cancel.canceled_qty, cancel.cum_qty, cancel.reason) == (7, 3, "IOC_REMAINDER")
    assert b.engine.depth(1) == ([], [])
    empty = b.order("m2", "sell", 1, kind="market", tif="ioc")
    assert isinstance(empty[-1], OrderCanceled) and empty[-1].reason == "MARKET_NO_LIQUIDITY"


def test_ioc_takes_what_crosses_and_cancels_the_rest() -> None:
    b = Book()
    b.order("s1", "sell", 2, 100)
    b.order("s2", "sell", 2, 103)
    out = b.order("i", "buy", 5, 101, tif="ioc")
    assert fills(out) == [("s1", 2, 100, "maker"), ("i", 2, 100, "taker")]
    assert isinstance(out[-1], OrderCanceled) and out[-1].canceled_qty == 3
    assert "i" not in b.engine.orders


def test_fok_fills_completely_or_not_at_all_checked_before_any_fill() -> None:
    b = Book()
    b.order("s1", "sell", 2, 100)
    b.order("s2", "sell", 2, 101)
    too_big = b.order("f1", "buy", 5, 101, tif="fok")
    assert fills(too_big) == []
    assert isinstance(too_big[-1], OrderCanceled) and too_big[-1].reason == "FOK_NOT_FILLABLE"
    assert b.engine.depth(5)[1] == [(100, 2, 1), (101, 2, 1)]
    exact = b.order("f2", "buy", 4, 101, tif="fok")
    assert [f[1] for f in fills(exact) if f[0] == "f2"] == [2, 2]
    assert exact[-1].status == "filled"


def test_gtd_expires_at_its_time_and_day_orders_at_end_of_day() -> None:
    b = Book()
    b.order("g", "buy", 1, 99, tif="gtd", expire_at=5_000)
    b.order("d", "buy", 1, 98, tif="day")
    b.order("c", "buy", 1, 97, tif="gtc")
    assert b.run(ExpireOrders("t1", 4_999, "XYZ")) == []
    out = b.run(ExpireOrders("t2", 5_000, "XYZ"))
    assert [(type(e), e.order_id) for e in out] == [(OrderExpired, "g")]
    out = b.run(ExpireOrders("t3", 6_000, "XYZ", end_of_day=True))
    assert [(e.order_id, e.reason) for e in out] == [("d", "EXPIRED_DAY")]
    assert list(b.engine.orders) == ["c"]


def test_gtd_in_the_past_is_rejected() -> None:
    b = Book()
    out = b.order("g", "buy", 1, 99, tif="gtd", expire_at=10)
    assert isinstance(out[0], OrderRejected) and out[0].reason == "EXPIRE_TIME_IN_PAST"


def test_stop_triggers_on_last_trade_price_and_works_as_market() -> None:
    b = Book()
    b.order("stop", "buy", 3, kind="stop", stop=101)
    b.order("ask", "sell", 10, 102)
    assert "stop" in b.engine.stops
    b.order("s", "sell", 1, 101)
    out = b.order("b", "buy", 1, 101)  # trade at 101 reaches the stop
    triggered = [e for e in out if isinstance(e, OrderTriggered)]
    assert [(e.order_id, e.order_type, e.trigger_px) for e in triggered] == [
        ("stop", "market", 101)
    ]
    assert ("stop", 3, 102, "taker") in fills(out)


def test_stop_limit_rests_at_its_limit_once_triggered() -> None:
    b = Book()
    b.order("sl", "sell", 2, 95, kind="stop_limit", stop=99)
    b.order("bid", "buy", 1, 99)
    out = b.order("hit", "sell", 1, 99)  # trade at 99 triggers the sell stop-limit
    assert any(isinstance(e, OrderTriggered) for e in out)
    assert b.engine.depth(1)[1] == [(95, 2, 1)]


def test_cancel_removes_the_order_and_an_unknown_or_foreign_cancel_is_rejected() -> None:
    b = Book()
    b.order("o", "buy", 5, 100, account="alice")
    out = b.run(CancelOrder("c1", 2_000, "XYZ", "o", "mallory"))
    assert isinstance(out[0], CancelRejected) and out[0].reason == "NOT_ORDER_OWNER"
    out = b.run(CancelOrder("c2", 2_001, "XYZ", "o", "alice"))
    assert isinstance(out[0], OrderCanceled) and out[0].canceled_qty == 5
    out = b.run(CancelOrder("c3", 2_002, "XYZ", "o", "alice"))
    assert isinstance(out[0], CancelRejected) and out[0].reason == "UNKNOWN_ORDER"
    assert b.engine.depth(1) == ([], [])


def test_replace_priority_rules() -> None:
    b = Book()
    b.order("a", "buy", 10, 100)
    b.order("b", "buy", 10, 100)
    down = b.run(ReplaceOrder("r1", 3_000, "XYZ", "a", "acct-a", quantity=6))
    assert isinstance(down[0], OrderReplaced) and down[0].priority_kept
    assert [o.order_id for o in b.engine.bids.levels[100].live_orders()] == ["a", "b"]
    up = b.run(ReplaceOrder("r2", 3_001, "XYZ", "a", "acct-a", quantity=12))
    assert isinstance(up[0], OrderReplaced) and not up[0].priority_kept
    assert [o.order_id for o in b.engine.bids.levels[100].live_orders()] == ["b", "a"]
    moved = b.run(ReplaceOrder("r3", 3_002, "XYZ", "b", "acct-b", price=101))
    assert not moved[0].priority_kept
    assert b.engine.depth(2)[0] == [(101, 10, 1), (100, 12, 1)]


def test_replace_quantity_is_the_new_total_and_at_or_below_filled_is_rejected() -> None:
    b = Book()
    b.order("o", "buy", 10, 100)
    b.order("s", "sell", 4, 100)
    out = b.run(ReplaceOrder("r1", 3_000, "XYZ", "o", "acct-o", quantity=8))
    assert isinstance(out[0], OrderReplaced)
    assert (out[0].quantity, out[0].cum_qty, out[0].leaves_qty) == (8, 4, 4)
    out = b.run(ReplaceOrder("r2", 3_001, "XYZ", "o", "acct-o", quantity=4))
    assert isinstance(out[0], ReplaceRejected)
    assert out[0].reason == "REPLACE_QTY_AT_OR_BELOW_FILLED"
    assert b.engine.depth(1)[0] == [(100, 4, 1)]  # the order still works for its 4


def test_replace_to_a_crossing_price_trades_immediately() -> None:
    b = Book()
    b.order("ask", "sell", 5, 101)
    b.order("o", "buy", 5, 99)
    out = b.run(ReplaceOrder("r", 3_000, "XYZ", "o", "acct-o", price=101))
    assert fills(out) == [("ask", 5, 101, "maker"), ("o", 5, 101, "taker")]


def test_self_trade_prevention_modes() -> None:
    newest = Book()
    newest.order("rest", "sell", 5, 100, account="me")
    out = newest.order("take", "buy", 5, 100, account="me", stp="cancel_newest")
    assert [(e.order_id, e.reason) for e in out if isinstance(e, OrderCanceled)] == [
        ("take", "SELF_TRADE_PREVENTED")
    ]
    assert "rest" in newest.engine.orders

    oldest = Book()
    oldest.order("rest", "sell", 5, 100, account="me")
    oldest.order("other", "sell", 5, 100, account="you")
    out = oldest.order("take", "buy", 5, 100, account="me", stp="cancel_oldest")
    assert [e.order_id for e in out if isinstance(e, OrderCanceled)] == ["rest"]
    assert fills(out) == [("other", 5, 100, "maker"), ("take", 5, 100, "taker")]

    both = Book()
    both.order("rest", "sell", 5, 100, account="me")
    out = both.order("take", "buy", 5, 100, account="me", stp="cancel_both")
    assert [e.order_id for e in out if isinstance(e, OrderCanceled)] == ["rest", "take"]
    assert both.engine.depth(1) == ([], [])


def test_fees_on_every_fill_and_ids_from_instrument_and_sequence() -> None:
    b = Book(maker=10, taker=25)
    b.order("s", "sell", 3, 200)
    out = b.order("b", "buy", 3, 200)
    maker, taker = (e for e in out if isinstance(e, OrderFilled))
    assert maker.fee == 3 * 200 * 10 and taker.fee == 3 * 200 * 25
    assert maker.trade_seq == taker.trade_seq == maker.seq
    assert execution_id("XYZ", maker.seq) != execution_id("XYZ", taker.seq)
    assert trade_id("XYZ", maker.trade_seq) == "XYZ-T" + str(maker.seq)


def test_halt_rejects_new_orders_cancels_resting_and_resume_reopens() -> None:
    b = Book()
    b.order("o", "buy", 5, 100)
    b.order("st", "buy", 1, kind="stop", stop=120)
    out = b.run(SetTradingState("h", 5_000, "XYZ", "halted"))
    assert isinstance(out[0], TradingStateChanged)
    assert {(e.order_id, e.reason) for e in out if isinstance(e, OrderCanceled)} == {
        ("o", "CANCELED_BY_HALT"),
        ("st", "CANCELED_BY_HALT"),
    }
    rejected = b.order("n", "buy", 1, 100)
    assert isinstance(rejected[0], OrderRejected) and rejected[0].reason == "INSTRUMENT_HALTED"
    b.run(SetTradingState("r", 5_001, "XYZ", "active"))
    assert isinstance(b.order("n2", "buy", 1, 100)[0], OrderAccepted)


def test_cancel_all_for_one_account_leaves_others() -> None:
    b = Book()
    b.order("a1", "buy", 1, 100, account="a")
    b.order("b1", "buy", 1, 99, account="b")
    b.order("a2", "sell", 1, 105, account="a")
    out = b.run(CancelAll("k", 6_000, "XYZ", "a"))
    assert [e.order_id for e in out] == ["a1", "a2"]
    assert list(b.engine.orders) == ["b1"]


def test_l2_depth_aggregates_levels_best_first() -> None:
    b = Book()
    for i, px in enumerate((100, 100, 99, 98, 97)):
        b.order(f"b{i}", "buy", i + 1, px)
    b.order("a", "sell", 7, 102)
    bids, asks = b.engine.depth(3)
    assert bids == [(100, 3, 2), (99, 3, 1), (98, 4, 1)]
    assert asks == [(102, 7, 1)]


def test_bad_orders_are_rejected_with_a_reason_and_change_nothing() -> None:
    b = Book()
    cases: dict[str, dict[str, Any]] = {
        "INVALID_QUANTITY": {"qty": 0, "price": 100},
        "MISSING_LIMIT_PRICE": {"qty": 1},
        "UNEXPECTED_PRICE": {"qty": 1, "price": 100, "kind": "market"},
        "MISSING_STOP_PRICE": {"qty": 1, "kind": "stop"},
        "INVALID_TIME_IN_FORCE": {"qty": 1, "price": 100, "tif": "forever"},
    }
    for reason, kw in cases.items():
        out = b.order(f"bad-{reason}", "buy", **kw)
        assert len(out) == 1 and isinstance(out[0], OrderRejected) and out[0].reason == reason
    b.order("dup", "buy", 1, 100)
    out = b.order("dup", "buy", 1, 100)
    assert isinstance(out[0], OrderRejected) and out[0].reason == "DUPLICATE_ORDER_ID"
    assert b.engine.depth(5) == ([(100, 1, 1)], [])


def test_an_expired_gtd_order_never_trades_even_before_its_expiry_tick() -> None:
    b = Book()
    b.order("g", "sell", 5, 100, tif="gtd", expire_at=1_500)
    b.order("later", "sell", 5, 101)
    b.ts = 2_000  # past g's expiry, and no ExpireOrders tick has run
    out = b.order("buy", "buy", 5, 101)
    expired = [e for e in out if isinstance(e, OrderExpired)]
    assert [(e.order_id, e.reason) for e in expired] == [("g", "EXPIRED_GTD")]
    assert fills(out) == [("later", 5, 101, "maker"), ("buy", 5, 101, "taker")]
    fok = b.order("fok", "sell", 1, 99, tif="fok")  # nothing to fill: the bid side is empty
    assert isinstance(fok[-1], OrderCanceled)
