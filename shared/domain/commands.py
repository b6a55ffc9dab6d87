"""Commands: imperative requests to the matcher for one instrument. They may fail.

Each carries a unique `command_id` (the bus message id, used to skip redeliveries) and
`ts`, the time the command was accepted (nanoseconds since the epoch). The engine takes
every timestamp from commands, so the same command stream always gives the same events.
Prices are integer ticks (0 = none), quantities integer lots, times integer ns (0 = none).
"""

from __future__ import annotations

from typing import ClassVar, Final, final


class Command:
    FIELDS: ClassVar[tuple[str, ...]] = ("command_id", "ts", "symbol")
    KIND: ClassVar[str] = "command"

    def __init__(self, command_id: str, ts: int, symbol: str) -> None:
        self.command_id: Final = command_id
        self.ts: Final = ts
        self.symbol: Final = symbol

    def values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"kind": self.KIND}
        for name in self.FIELDS:
            data[name] = getattr(self, name)
        return data

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Command)
            and self.KIND == other.KIND
            and self.values() == other.values()
        )

    def __hash__(self) -> int:
        return hash((self.KIND, self.values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{type(self).__name__}({inner})"


@final
class NewOrder(Command):
    """Place an order. `stp` is the account's self-trade prevention mode; `venue` is
    "internal" (the matching engine) or "paper" (the fill simulator)."""

    KIND: ClassVar[str] = "new_order"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Command.FIELDS,
        "order_id",
        "account_id",
        "side",
        "order_type",
        "time_in_force",
        "quantity",
        "price",
        "stop_price",
        "expire_at",
        "stp",
        "venue",
    )

    def __init__(
        self,
        command_id: str,
        ts: int,
        symbol: str,
        order_id: str,
        account_id: str,
        side: str,
        order_type: str,
        time_in_force: str,
        quantity: int,
        price: int = 0,
        stop_price: int = 0,
        expire_at: int = 0,
        stp: str = "cancel_newest",
        venue: str = "internal",
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.side: Final = side
        self.order_type: Final = order_type
        self.time_in_force: Final = time_in_force
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.expire_at: Final = expire_at
        self.stp: Final = stp
        self.venue: Final = venue


@final
class CancelOrder(Command):
    KIND: ClassVar[str] = "cancel_order"
    FIELDS: ClassVar[tuple[str, ...]] = (*Command.FIELDS, "order_id", "account_id")

    def __init__(
        self, command_id: str, ts: int, symbol: str, order_id: str, account_id: str
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.order_id: Final = order_id
        self.account_id: Final = account_id


@final
class ReplaceOrder(Command):
    """Replace in place: `quantity` is the new total (filled part included); 0 = unchanged."""

    KIND: ClassVar[str] = "replace_order"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Command.FIELDS,
        "order_id",
        "account_id",
        "quantity",
        "price",
        "stop_price",
        "client_order_id",
    )

    def __init__(
        self,
        command_id: str,
        ts: int,
        symbol: str,
        order_id: str,
        account_id: str,
        quantity: int = 0,
        price: int = 0,
        stop_price: int = 0,
        client_order_id: str = "",
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.client_order_id: Final = client_order_id


@final
class CancelAll(Command):
    """Cancel every open order of `account_id` on the instrument ("" = every account)."""

    KIND: ClassVar[str] = "cancel_all"
    FIELDS: ClassVar[tuple[str, ...]] = (*Command.FIELDS, "account_id", "reason")

    def __init__(
        self, command_id: str, ts: int, symbol: str, account_id: str, reason: str = ""
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.account_id: Final = account_id
        self.reason: Final = reason


@final
class ExpireOrders(Command):
    """A clock tick: expire GTD orders whose time has come; at end of day, DAY orders too."""

    KIND: ClassVar[str] = "expire_orders"
    FIELDS: ClassVar[tuple[str, ...]] = (*Command.FIELDS, "end_of_day")

    def __init__(self, command_id: str, ts: int, symbol: str, end_of_day: bool = False) -> None:
        super().__init__(command_id, ts, symbol)
        self.end_of_day: Final = end_of_day


@final
class SetTradingState(Command):
    """Kill switch for the instrument: halted rejects new orders and cancels resting ones."""

    KIND: ClassVar[str] = "set_trading_state"
    FIELDS: ClassVar[tuple[str, ...]] = (*Command.FIELDS, "state")

    def __init__(self, command_id: str, ts: int, symbol: str, state: str) -> None:
        super().__init__(command_id, ts, symbol)
        self.state: Final = state


@final
class RecordOutcome(Command):
    """The journal's record of a command that was not run through the venue as it is:
    one from the queue that changed nothing (`reason` ""), or one the venue failed on
    (`reason` ENGINE_ERROR). It carries the command's id, time and kind (`of_kind`, with
    `order_id` and `account_id` when it is about an order); the venue answers it without
    touching the book: a rejection of the order, cancel or replace, else NothingChanged.
    So a redelivered command is found in the journal and skipped, and replaying the journal
    gives the same events."""

    KIND: ClassVar[str] = "record_outcome"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Command.FIELDS,
        "of_kind",
        "order_id",
        "account_id",
        "reason",
    )

    def __init__(
        self,
        command_id: str,
        ts: int,
        symbol: str,
        of_kind: str,
        order_id: str,
        account_id: str,
        reason: str,
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.of_kind: Final = of_kind
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.reason: Final = reason


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.KIND: cls
    for cls in (
        NewOrder,
        CancelOrder,
        ReplaceOrder,
        CancelAll,
        ExpireOrders,
        SetTradingState,
        RecordOutcome,
    )
}


def command_from_dict(data: dict[str, object]) -> Command:
    """Rebuild a command from `Command.to_dict()` output (bus bodies, journal)."""
    cls = COMMAND_TYPES[str(data["kind"])]
    return cls(*(data[name] for name in cls.FIELDS))  # type: ignore[arg-type]
