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


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    GTD = "gtd"


class OrderStatus(StrEnum):
    """FIX OrdStatus, as far as this OMS uses it: a replace keeps the order id (no
    `replaced`), and a halt cancels working orders (no `suspended`). Which status may
    follow which is `shared.domain.order.TRANSITIONS`."""

    PENDING_NEW = "pending_new"
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


class AccountType(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class SelfTradePrevention(StrEnum):
    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"
