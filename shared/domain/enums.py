"""Enumerations of the order model, with FIX-aligned names and stable string values."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"
    OPG = "opg"  # at the open: refused (TIME_IN_FORCE_NOT_SUPPORTED) until auctions exist
    CLS = "cls"  # at the close: likewise


class OrderStatus(StrEnum):
    """FIX OrdStatus, as far as this OMS uses it: a replace keeps the order id (no
    `replaced`), and a halt cancels working orders (no `suspended`). Which status may
    follow which is `shared.domain.order.TRANSITIONS`."""

    PENDING_NEW = "pending_new"
    HELD = "held"  # a contingent leg waiting for its entry to fill (nothing live yet)
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


class TradingState(StrEnum):
    """Kill-switch state of a scope (account, instrument, everything)."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class AssetClass(StrEnum):
    """What an instrument is; it sets the default settlement cycle (crypto T+0, equity T+1)."""

    EQUITY = "equity"
    CRYPTO = "crypto"


class AccountType(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class SelfTradePrevention(StrEnum):
    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"
    DECREMENT = "decrement"  # FIX 2964 "decrement and cancel"


class OrderClass(StrEnum):
    """How an order relates to others placed with it (Alpaca's `order_class`)."""

    SIMPLE = "simple"
    BRACKET = "bracket"  # entry + take-profit + stop-loss; the exits are an OCO pair
    OCO = "oco"  # two exits, one cancels (reduces) the other
    OTO = "oto"  # entry + one exit, released as the entry fills


class Leg(StrEnum):
    """A contingent order's role in its group ("" for a simple order)."""

    ENTRY = "entry"
    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
