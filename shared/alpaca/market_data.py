"""Alpaca's market data objects (quotes, trades, bars) from `shared.services.market_data`.

Alpaca's market data API sends prices and sizes as JSON numbers: each is written from the
instrument's exact decimal string (an `orjson.Fragment`), never through a binary float.
"""

from __future__ import annotations

from orjson import Fragment

from shared.domain.instrument import Instrument
from shared.ports.store_executions import Execution
from shared.services.market_data import Bar, Quote
from shared.services.views import average_price, ns_to_rfc3339


def number(text: str) -> Fragment:
    return Fragment(text.encode())


def alpaca_quote(instrument: Instrument, quote: Quote, crypto: bool) -> dict[str, object]:
    """The top of the book; an empty side has price and size 0, as Alpaca sends it."""

    def price(ticks: int | None) -> Fragment:
        return number("0" if ticks is None else instrument.price_str(ticks))

    def size(lots: int) -> Fragment:
        return number("0" if lots == 0 else instrument.quantity_str(lots))

    out: dict[str, object] = {
        "t": ns_to_rfc3339(quote.ts),
        "bp": price(quote.bid_price),
        "bs": size(quote.bid_size),
        "ap": price(quote.ask_price),
        "as": size(quote.ask_size),
    }
    if not crypto:  # stock quotes also name exchanges, conditions and tape
        out.update({"bx": "", "ax": "", "c": [], "z": ""})
    return out


def trade_number(trade: Execution) -> int:
    """The trade's number on the instrument's tape (its trade id is `<symbol>-T<n>`)."""
    tail = trade.trade_id.rsplit("-T", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def alpaca_trade(instrument: Instrument, trade: Execution, crypto: bool) -> dict[str, object]:
    """A public trade (its maker's row); crypto trades name the taker's side (`tks`)."""
    out: dict[str, object] = {
        "t": ns_to_rfc3339(trade.executed_at),
        "p": number(instrument.price_str(trade.price)),
        "s": number(instrument.quantity_str(trade.quantity)),
        "i": trade_number(trade),
    }
    if crypto:
        out["tks"] = "S" if trade.side.value == "buy" else "B"  # the maker's other side
    else:
        out.update({"x": "", "c": [], "z": ""})
    return out


def alpaca_bar(instrument: Instrument, bar: Bar) -> dict[str, object]:
    vwap = average_price(instrument, bar.notional, bar.volume) or "0"
    return {
        "t": ns_to_rfc3339(bar.start).replace(".000000000Z", "Z"),
        "o": number(instrument.price_str(bar.open)),
        "h": number(instrument.price_str(bar.high)),
        "l": number(instrument.price_str(bar.low)),
        "c": number(instrument.price_str(bar.close)),
        "v": number(instrument.quantity_str(bar.volume)),
        "n": bar.trades,
        "vw": number(vwap),
    }
