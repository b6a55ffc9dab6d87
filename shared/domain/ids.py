"""Typed identifiers. Ids that replays must reproduce derive from instrument + sequence."""

from __future__ import annotations

import secrets
import time
import uuid
from typing import NewType

AccountId = NewType("AccountId", str)
OrderId = NewType("OrderId", str)
ClientOrderId = NewType("ClientOrderId", str)
CommandId = NewType("CommandId", str)
ExecutionId = NewType("ExecutionId", str)
TradeId = NewType("TradeId", str)
Symbol = NewType("Symbol", str)


def new_order_id() -> OrderId:
    """A fresh, unique order id: the millisecond it was made (48 bits), then 80 random
    bits, in 32 hex digits (the layout of a UUIDv7). It tells nothing about order flow
    beyond the creation time the order carries anyway, and cannot be guessed. New ids sort
    by time, so an index on them grows at its end: a store writes one index page for many
    new orders instead of a random page for each."""
    return OrderId(f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}")


def new_command_id() -> CommandId:
    return CommandId(uuid.uuid4().hex)


def execution_id(symbol: str, seq: int) -> ExecutionId:
    """The execution id of the fill event with instrument sequence `seq`."""
    return ExecutionId(f"{symbol}-E{seq}")


def trade_id(symbol: str, trade_seq: int) -> TradeId:
    """The trade id shared by both sides of one match (the maker fill's sequence)."""
    return TradeId(f"{symbol}-T{trade_seq}")


def trade_execution_ids(trade: str) -> tuple[ExecutionId, ExecutionId] | None:
    """The execution ids of a trade's two sides: the maker fill's sequence is the trade's,
    the taker fill follows it (None when `trade` is no trade id)."""
    symbol, sep, seq = trade.rpartition("-T")
    if not sep or not symbol or not seq.isdigit():
        return None
    return execution_id(symbol, int(seq)), execution_id(symbol, int(seq) + 1)
