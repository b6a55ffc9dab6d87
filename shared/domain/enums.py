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
    """FIX OrdStatus, plus suspended for halted instruments."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELED = "canceled"
    PENDING_REPLACE = "pending_replace"
    REPLACED = "replaced"
    REJECTED = "rejected"
    EXPIRED = "expired"
    SUSPENDED = "suspended"


TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


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
