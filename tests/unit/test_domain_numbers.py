"""Prices and quantities: decimal strings outside, integer ticks and lots inside."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shared.domain import codes, enums
from shared.domain.instrument import Instrument
from shared.domain.numbers import GridError, fee_to_str

INSTRUMENT = Instrument("AAPL", tick_size=Decimal("0.01"), lot_size=Decimal("1"))


def test_on_grid_values_become_exact_integers_and_back() -> None:
    assert INSTRUMENT.ticks("limit_price", "150.25") == 15_025
    assert INSTRUMENT.price_str(15_025) == "150.25"
    assert INSTRUMENT.price_str(15_000) == "150"
    assert INSTRUMENT.lots("quantity", "10") == 10
    fx = Instrument("EURUSD", tick_size=Decimal("0.00005"), lot_size=Decimal("1000"))
    assert fx.ticks("limit_price", "1.08715") == 21_743
    assert fx.lots("quantity", "25000") == 25


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("limit_price", "150.255", "PRICE_OFF_TICK"),
        ("limit_price", "-1", "INVALID_PRICE"),
        ("limit_price", "0", "INVALID_PRICE"),
        ("limit_price", "abc", "INVALID_PRICE"),
        ("limit_price", "NaN", "INVALID_PRICE"),
        ("limit_price", "Infinity", "INVALID_PRICE"),
    ],
)
def test_bad_prices_name_the_field_and_reason(field: str, value: str, reason: str) -> None:
    with pytest.raises(GridError) as err:
        INSTRUMENT.ticks(field, value)
    assert (err.value.field, err.value.reason) == (field, reason)


def test_binary_floats_are_refused_for_money() -> None:
    with pytest.raises(GridError) as err:
        INSTRUMENT.ticks("limit_price", 150.25)  # type: ignore[arg-type]
    assert err.value.reason == "INVALID_PRICE"
    with pytest.raises(GridError) as err:
        INSTRUMENT.lots("quantity", "1.5")
    assert err.value.reason == "QUANTITY_OFF_LOT"


def test_fees_convert_exactly() -> None:
    # 3 lots at 200 ticks, 25 cbps (0.25 bp): 3*200*25 raw units of tick*lot/1e6
    assert fee_to_str(3 * 200 * 25, Decimal("0.01"), Decimal("1")) == "0.00015"


def test_engine_codes_are_the_domain_enum_values() -> None:
    assert {codes.BUY, codes.SELL} == {s.value for s in enums.Side}
    assert {codes.MARKET, codes.LIMIT, codes.STOP, codes.STOP_LIMIT, codes.TRAILING_STOP} == {
        t.value for t in enums.OrderType
    }
    tifs = {codes.DAY, codes.GTC, codes.IOC, codes.FOK, codes.GTD, codes.OPG, codes.CLS}
    assert tifs == {t.value for t in enums.TimeInForce}
    statuses = {codes.HELD, codes.NEW, codes.PARTIALLY_FILLED, codes.FILLED, codes.CANCELED}
    assert statuses | {codes.REJECTED, codes.EXPIRED} <= {s.value for s in enums.OrderStatus}
    assert {codes.MAKER, codes.TAKER} == {x.value for x in enums.Liquidity}
    assert {codes.ACTIVE, codes.REDUCING, codes.HALTED} == {x.value for x in enums.TradingState}
    stp = {codes.CANCEL_NEWEST, codes.CANCEL_OLDEST, codes.CANCEL_BOTH, codes.DECREMENT}
    assert stp == {x.value for x in enums.SelfTradePrevention}
    classes = {codes.SIMPLE, codes.BRACKET, codes.OCO, codes.OTO}
    assert classes == {x.value for x in enums.OrderClass}
    assert {codes.ENTRY, codes.TAKE_PROFIT, codes.STOP_LOSS} == {x.value for x in enums.Leg}
