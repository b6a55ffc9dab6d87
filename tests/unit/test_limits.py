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


def ask(notional: str = "90", filled: str = "0", now: int = T, new: bool = True) -> limits.Ask:
    return limits.Ask(Decimal(notional), Decimal(filled), now, "20231114", new)


def ledger(**fields: object) -> RiskLedger:
    values: dict[str, object] = {"rate_tokens": 5.0, "rate_at": T, **fields}
    return RiskLedger("acc", **values)  # type: ignore[arg-type]


def test_a_new_order_takes_a_token_an_open_order_one_of_todays_and_its_credit():
    taken = limits.take(ledger(), ask(), LIMITS)
    assert (taken.open_orders, taken.open_notional, taken.day, taken.day_orders) == (
        1,
        Decimal(90),
        "20231114",
        1,
    )
    assert taken.rate_tokens == 4.0


@pytest.mark.parametrize(
    ("state", "wanted", "reason"),
    [
        (ledger(rate_tokens=0.5), ask(), "RATE_LIMIT_EXCEEDED"),
        (ledger(open_orders=2), ask(), "MAX_OPEN_ORDERS_EXCEEDED"),
        (ledger(day="20231114", day_orders=3), ask(), "DAILY_ORDER_LIMIT_EXCEEDED"),
        (ledger(open_notional=Decimal(900)), ask(filled="20"), "CREDIT_LIMIT_EXCEEDED"),
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


def test_a_fill_gives_back_the_credit_of_what_filled_and_the_end_gives_back_all():
    partly = order(status=OrderStatus.PARTIALLY_FILLED, leaves_qty=4, cum_qty=6)
    change = limits.release(partly, True, ABC)
    assert partly.reserved == Decimal(360) and change is not None
    assert change.rule(ledger(open_orders=1, open_notional=Decimal(900))).open_notional == 360
    done = order(status=OrderStatus.CANCELED, leaves_qty=0, reserved=Decimal(360))
    change = limits.release(done, True, ABC)
    assert done.reserved == 0 and change is not None
    after = change.rule(ledger(open_orders=1, open_notional=Decimal(360)))
    assert (after.open_orders, after.open_notional) == (0, Decimal(0))
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
