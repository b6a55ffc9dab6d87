"""The values of the domain's StrEnums as plain strings, for the engine's hot path and the
order rules: `Final` strings compile to constants under mypyc, an enum member does not.
`tests/unit/test_domain_numbers.py` checks they equal the values in `shared.domain.enums`.
"""

from __future__ import annotations

from typing import Final

BUY: Final = "buy"
SELL: Final = "sell"

MARKET: Final = "market"
LIMIT: Final = "limit"
STOP: Final = "stop"
STOP_LIMIT: Final = "stop_limit"
TRAILING_STOP: Final = "trailing_stop"

DAY: Final = "day"
GTC: Final = "gtc"
IOC: Final = "ioc"
FOK: Final = "fok"
GTD: Final = "gtd"
OPG: Final = "opg"
CLS: Final = "cls"

HELD: Final = "held"
NEW: Final = "new"
PARTIALLY_FILLED: Final = "partially_filled"
FILLED: Final = "filled"
CANCELED: Final = "canceled"
REJECTED: Final = "rejected"
EXPIRED: Final = "expired"

MAKER: Final = "maker"
TAKER: Final = "taker"

ACTIVE: Final = "active"
REDUCING: Final = "reducing"
HALTED: Final = "halted"

CANCEL_NEWEST: Final = "cancel_newest"
CANCEL_OLDEST: Final = "cancel_oldest"
CANCEL_BOTH: Final = "cancel_both"
DECREMENT: Final = "decrement"

SIMPLE: Final = "simple"
BRACKET: Final = "bracket"
OCO: Final = "oco"
OTO: Final = "oto"

ENTRY: Final = "entry"
TAKE_PROFIT: Final = "take_profit"
STOP_LOSS: Final = "stop_loss"
