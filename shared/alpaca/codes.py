"""Reason codes of what Alpaca's API can ask and this OMS does not do (yet): stable strings,
sent with Alpaca's error body so a client can tell them apart."""

from __future__ import annotations

from typing import Final

NOTIONAL_NOT_SUPPORTED: Final = "NOTIONAL_NOT_SUPPORTED"
EXTENDED_HOURS_NOT_SUPPORTED: Final = "EXTENDED_HOURS_NOT_SUPPORTED"
ORDER_CLASS_NOT_SUPPORTED: Final = "ORDER_CLASS_NOT_SUPPORTED"
TIME_IN_FORCE_NOT_REPLACEABLE: Final = "TIME_IN_FORCE_NOT_REPLACEABLE"
ORDER_REPLACED: Final = "ORDER_REPLACED"
POSITION_NOT_FOUND: Final = "POSITION_NOT_FOUND"
INSUFFICIENT_QUANTITY: Final = "INSUFFICIENT_QUANTITY"
ASSET_NOT_FOUND: Final = "ASSET_NOT_FOUND"
