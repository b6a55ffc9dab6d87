"""The reservable limits: what an order takes of its account's ledger and gives back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.ports.store_accounts import RiskLimits
from shared.ports.store_risk import RiskLedger
from shared.services import limits
from shared.services.errors import RateLimited, RiskRefused

ABC = Instrument("ABC", Decimal("0.01"), Decimal("1"))
LIMITS = RiskLimits(
    max_open_orders=2, max_daily_orders=3, rate_per_second=1, burst=5, credit_limit=Decimal(1000)
)
NS = 1_000_000_000
T = 1_700_000_000 * NS


def ask(
    notional: str = "90",
    power: str = "1000",
    now: int = T,
    new: bool = True,
    symbol: str = "ABC",
    reduces: bool = False,
) -> limits.Ask:
    return limits.Ask(Decimal(notional), Decimal(power), now, "20231114", new, symbol, reduces)


def ledger(**fields: object) -> RiskLedger:
    values: dict[str, object] = {"rate_tokens": 5.0, "rate_at": T, **fields}
    return RiskLedger("acc", **values)  # type: ignore[arg-type]


def test_a_new_order_takes_a_token_an_open_order_one_of_todays_and_its_buying_power():
    taken = limits.take(ledger(), ask(), LIMITS)
    assert (taken.open_orders, taken.open_notional, taken.day, taken.day_orders) == (
        1,
        Decimal(90),
        "20231114",
        1,
    )
    assert taken.rate_tokens == 4.0
    assert taken.open_symbols == {"ABC": 1}


def test_buying_power_is_what_the_open_orders_leave_of_the_power_before_them():
    held = ledger(open_orders=1, open_notional=Decimal(910), open_symbols={"XYZ": 1})
    assert limits.take(held, ask(notional="90"), LIMITS).open_notional == Decimal(1000)
    with pytest.raises(RiskRefused) as refused:
        limits.take(held, ask(notional="90.01"), LIMITS)
    assert refused.value.detail == "notional 90.01 is above the buying power 90"


def test_an_order_that_only_reduces_needs_none_unless_another_is_open_on_its_instrument():
    broke = ledger(open_orders=1, open_notional=Decimal(5000), open_symbols={"XYZ": 1})
    closing = limits.take(broke, ask(notional="900", reduces=True), LIMITS)
    assert closing.open_symbols == {"ABC": 1, "XYZ": 1}  # it still counts, and holds its worth
    assert closing.open_notional == Decimal(5900)
    with pytest.raises(RiskRefused):  # a second closing order: the two could flip it
        limits.take(closing, ask(notional="900", reduces=True), LIMITS)
    # A replace of the one open order there may still only reduce.
    assert limits.take(closing, ask(notional="100", new=False, reduces=True), LIMITS)
    with pytest.raises(RiskRefused):  # an older ledger, open orders on unknown instruments
        limits.take(ledger(open_orders=1), ask(power="0", reduces=True), LIMITS)


def test_an_ended_order_gives_its_instrument_back():
    taken = limits.take(ledger(), ask(), LIMITS)
    assert limits.give_back(taken, 1, Decimal(90), "ABC").open_symbols == {}
    assert limits.untake(taken, ask()).open_symbols == {}


def test_a_flattening_order_past_the_checks_counts_as_open_and_holds_nothing():
    broke = ledger(open_orders=3, open_symbols={"ABC": 3}, open_notional=Decimal(99_999))
    change = limits.counting("acc", "ABC", "20231114", broke)
    counted = change.rule(broke)
    assert (counted.open_orders, counted.open_symbols, counted.open_notional) == (
        4,
        {"ABC": 4},
        Decimal(99_999),
    )
    assert change.undo is not None and change.undo(counted).open_symbols == {"ABC": 3}


@pytest.mark.parametrize(
    ("state", "wanted", "reason"),
    [
        (ledger(rate_tokens=0.5), ask(), "RATE_LIMIT_EXCEEDED"),
        (ledger(open_orders=2), ask(), "MAX_OPEN_ORDERS_EXCEEDED"),
        (ledger(day="20231114", day_orders=3), ask(), "DAILY_ORDER_LIMIT_EXCEEDED"),
        (ledger(open_notional=Decimal(900)), ask(power="980"), "INSUFFICIENT_BUYING_POWER"),
        (ledger(), ask(power="-10"), "INSUFFICIENT_BUYING_POWER"),
    ],
)
def test_each_limit_refuses_the_order_that_would_pass_it(state, wanted, reason):
    with pytest.raises((RiskRefused, RateLimited)) as refused:
        limits.take(state, wanted, LIMITS)
    assert refused.value.reason == reason


def test_yesterdays_orders_and_a_refilled_bucket_do_not_count():
    state = ledger(day="20231113", day_orders=3, rate_tokens=0.0, rate_at=T - 2 * NS)
    taken = limits.take(state, ask(), LIMITS)
    assert (taken.day, taken.day_orders, taken.rate_tokens) == ("20231114", 1, 1.0)


def test_a_replace_takes_only_credit_and_undo_gives_back_all_but_the_token():
    state = ledger(open_orders=2, day="20231114", day_orders=3)  # full on counts
    assert limits.take(state, ask(new=False), LIMITS).open_notional == Decimal(90)
    taken = limits.take(ledger(), ask(), LIMITS)
    back = limits.untake(taken, ask())
    assert (back.open_orders, back.open_notional, back.day_orders) == (0, Decimal(0), 0)
    assert back.rate_tokens == 4.0  # the order was asked for


def order(**fields: object) -> Order:
    values: dict[str, object] = {
        "order_id": "o1",
        "client_order_id": "c1",
        "account_id": "acc",
        "symbol": "ABC",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "time_in_force": TimeInForce.GTC,
        "quantity": 10,
        "limit_price": 9_000,
        "stop_price": None,
        "created_at": T,
        "reserved": Decimal(900),
        **fields,
    }
    return Order(**values)  # type: ignore[arg-type]


def test_a_fill_gives_back_the_buying_power_of_what_filled_and_the_end_gives_back_all():
    partly = order(status=OrderStatus.PARTIALLY_FILLED, leaves_qty=4, cum_qty=6)
    change = limits.release(partly, True, ABC)
    assert partly.reserved == Decimal(360) and change is not None
    assert change.rule(ledger(open_orders=1, open_notional=Decimal(900))).open_notional == 360
    done = order(status=OrderStatus.CANCELED, leaves_qty=0, reserved=Decimal(360))
    change = limits.release(done, True, ABC)
    assert done.reserved == 0 and change is not None
    after = change.rule(ledger(open_orders=1, open_notional=Decimal(360), open_symbols={"ABC": 1}))
    assert (after.open_orders, after.open_notional, after.open_symbols) == (0, Decimal(0), {})
    assert limits.release(order(), True, ABC) is None  # unchanged: nothing to give back


def test_a_pending_replace_keeps_what_it_took_until_the_matcher_answers():
    bigger = {"kind": "replace_order", "quantity": 20, "price": 9_000, "stop_price": 0}
    pending = order(
        status=OrderStatus.PENDING_REPLACE, pending_command=bigger, reserved=Decimal(1800)
    )
    assert limits.release(pending, True, ABC) is None  # still asking for 20
    refused = order(status=OrderStatus.NEW, leaves_qty=10, reserved=Decimal(1800))
    change = limits.release(refused, True, ABC)
    assert refused.reserved == 900 and change is not None
