"""Typed identifiers. Ids that replays must reproduce derive from instrument + sequence."""

from __future__ import annotations

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
    """A fresh, unique order id (random, so it reveals nothing about order flow)."""
    return OrderId(uuid.uuid4().hex)


def new_command_id() -> CommandId:
    return CommandId(uuid.uuid4().hex)


def execution_id(symbol: str, seq: int) -> ExecutionId:
    """The execution id of the fill event with instrument sequence `seq`."""
    return ExecutionId(f"{symbol}-E{seq}")


def trade_id(symbol: str, trade_seq: int) -> TradeId:
    """The trade id shared by both sides of one match (the maker fill's sequence)."""
    return TradeId(f"{symbol}-T{trade_seq}")
