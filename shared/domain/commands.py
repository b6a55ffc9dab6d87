"""Commands: imperative requests to the matcher for one instrument. They may fail.

Each carries a unique `command_id` (the bus message id, used to skip redeliveries) and
`ts`, the time the command was accepted (nanoseconds since the epoch). The engine takes
every timestamp from commands, so the same command stream always gives the same events.
Prices are integer ticks (0 = none), quantities integer lots, times integer ns (0 = none).

Fields are only ever appended, each new one with a default: a body written before a field
existed (journal entries, messages in flight) still decodes (`command_from_dict`).
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
    "internal" (the matching engine) or "paper" (the fill simulator).

    - `display_qty`: an iceberg's displayed part (0: all of it is displayed); limit only.
    - `post_only`: a limit order that must never take liquidity.
    - `reduce_only`: may only reduce the account's position in the instrument.
    - `trail_amount` (ticks) or `trail_cbps` (hundredths of a basis point of the price,
      1% = 10_000): the trail of a `trailing_stop`, exactly one of them set.
    - `order_class`, `leg`, `parent_order_id`: a contingent order's group (see
      `NewOrderGroup`); a simple order has "simple", "" and "".
    - `sim_*`: a paper order's fill simulator settings, its account's when it was placed
      (`shared.domain.paper_settings`): slippage and size impact per lot in cbps of the
      reference price, latency and the interval between partial fills in ns, the partial
      fill step in % of the quantity; -1 (the ratio: 0) is the instrument's default.
    - `shadow`: an internal order that is also run, unseen by the book, on the fill
      simulator (its account is in shadow mode): ShadowFilled / ShadowClosed report it.
    """

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
        "display_qty",
        "post_only",
        "reduce_only",
        "trail_amount",
        "trail_cbps",
        "order_class",
        "leg",
        "parent_order_id",
        "sim_slippage_cbps",
        "sim_impact_cbps_per_lot",
        "sim_latency_ns",
        "sim_fill_ratio_pct",
        "sim_fill_interval_ns",
        "shadow",
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
        display_qty: int = 0,
        post_only: bool = False,
        reduce_only: bool = False,
        trail_amount: int = 0,
        trail_cbps: int = 0,
        order_class: str = "simple",
        leg: str = "",
        parent_order_id: str = "",
        sim_slippage_cbps: int = -1,
        sim_impact_cbps_per_lot: int = -1,
        sim_latency_ns: int = -1,
        sim_fill_ratio_pct: int = 0,
        sim_fill_interval_ns: int = -1,
        shadow: bool = False,
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
        self.display_qty: Final = display_qty
        self.post_only: Final = post_only
        self.reduce_only: Final = reduce_only
        self.trail_amount: Final = trail_amount
        self.trail_cbps: Final = trail_cbps
        self.order_class: Final = order_class
        self.leg: Final = leg
        self.parent_order_id: Final = parent_order_id
        self.sim_slippage_cbps: Final = sim_slippage_cbps
        self.sim_impact_cbps_per_lot: Final = sim_impact_cbps_per_lot
        self.sim_latency_ns: Final = sim_latency_ns
        self.sim_fill_ratio_pct: Final = sim_fill_ratio_pct
        self.sim_fill_interval_ns: Final = sim_fill_interval_ns
        self.shadow: Final = shadow


@final
class NewOrderGroup(Command):
    """Place a contingent group as a whole: accepted or rejected together, in one step.

    `order_class` is "bracket" ([entry, take_profit, stop_loss]), "oto" ([entry, one exit])
    or "oco" ([take_profit, stop_loss], both live at once). Each order is a full NewOrder
    with its own order id and command id (`<command_id>.<n>`), its `leg`, `order_class`
    and `parent_order_id` set. `to_dict` nests the orders' own dicts."""

    KIND: ClassVar[str] = "new_order_group"
    FIELDS: ClassVar[tuple[str, ...]] = (*Command.FIELDS, "order_class", "orders")

    def __init__(
        self,
        command_id: str,
        ts: int,
        symbol: str,
        order_class: str,
        orders: tuple[NewOrder, ...],
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.order_class: Final = order_class
        self.orders: Final = orders

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.KIND,
            "command_id": self.command_id,
            "ts": self.ts,
            "symbol": self.symbol,
            "order_class": self.order_class,
            "orders": [order.to_dict() for order in self.orders],
        }


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
        "trail_amount",
        "trail_cbps",
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
        trail_amount: int = 0,
        trail_cbps: int = 0,
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.quantity: Final = quantity
        self.price: Final = price
        self.stop_price: Final = stop_price
        self.client_order_id: Final = client_order_id
        self.trail_amount: Final = trail_amount
        self.trail_cbps: Final = trail_cbps


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
class ConfigureInstrument(Command):
    """The instrument's matcher-relevant reference data changed (today: its fees); the
    venues apply it from this command on, so a replay applies it at the same point."""

    KIND: ClassVar[str] = "configure_instrument"
    FIELDS: ClassVar[tuple[str, ...]] = (*Command.FIELDS, "maker_fee_cbps", "taker_fee_cbps")

    def __init__(
        self, command_id: str, ts: int, symbol: str, maker_fee_cbps: int, taker_fee_cbps: int
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.maker_fee_cbps: Final = maker_fee_cbps
        self.taker_fee_cbps: Final = taker_fee_cbps


@final
class SetReferencePrices(Command):
    """The fill simulator's reference price source for the instrument, from this command on.

    `source` "walk": a seeded random walk (`seed`, Gaussian steps of `step_ticks` every
    `step_ns`) starting at `start_price` (0: the reference price at this command's time).
    `source` "file": the replayed `prices`, [ts, price] points in ascending time; before
    the first point the price is the one at this command's time. Prices in ticks."""

    KIND: ClassVar[str] = "set_reference_prices"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Command.FIELDS,
        "source",
        "seed",
        "step_ticks",
        "step_ns",
        "start_price",
        "prices",
    )

    def __init__(
        self,
        command_id: str,
        ts: int,
        symbol: str,
        source: str,
        seed: int = 0,
        step_ticks: int = 1,
        step_ns: int = 1_000_000_000,
        start_price: int = 0,
        prices: list[list[int]] | None = None,
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.source: Final = source
        self.seed: Final = seed
        self.step_ticks: Final = step_ticks
        self.step_ns: Final = step_ns
        self.start_price: Final = start_price
        self.prices: Final[list[list[int]]] = [] if prices is None else prices


@final
class RecordOutcome(Command):
    """The journal's record of a command that was not run through the venue as it is:
    one from the queue that changed nothing (`reason` ""), or one the venue failed on
    (`reason` ENGINE_ERROR). It carries the command's id, time and kind (`of_kind`, with
    `order_id` and `account_id` when it is about an order); the venue answers it without
    touching the book: a rejection of the order, cancel or replace, else NothingChanged.
    So a redelivered command is found in the journal and skipped, and replaying the journal
    gives the same events.

    Of a NewOrderGroup, `order_id` and `account_id` are its head's and `group_order_ids`
    names every order of the group (space-separated, head first): each is rejected."""

    KIND: ClassVar[str] = "record_outcome"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Command.FIELDS,
        "of_kind",
        "order_id",
        "account_id",
        "reason",
        "group_order_ids",
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
        group_order_ids: str = "",
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.of_kind: Final = of_kind
        self.order_id: Final = order_id
        self.account_id: Final = account_id
        self.reason: Final = reason
        self.group_order_ids: Final = group_order_ids


@final
class VenueReport(Command):
    """What an external venue said about one of our orders there (issue #18): the gateway
    sends it on the instrument's session, so the instrument's single writer sequences and
    journals it (`shared.venue_messages` builds it; the fields are its REPORT_FIELDS).
    Quantities in lots and prices in ticks of the instrument (`on_grid` false: the venue's
    decimal texts did not convert, and the integers are 0); `is_fill`: a new execution
    (never a status answer); `poss_dup`: the venue flagged it as possibly sent before."""

    KIND: ClassVar[str] = "venue_report"
    FIELDS: ClassVar[tuple[str, ...]] = (
        *Command.FIELDS,
        "venue",
        "report_kind",
        "order_id",
        "cl_ord_id",
        "orig_cl_ord_id",
        "exec_id",
        "venue_order_id",
        "ord_status",
        "is_fill",
        "last_qty",
        "last_px",
        "cum_qty",
        "leaves_qty",
        "on_grid",
        "last_qty_text",
        "last_px_text",
        "cum_qty_text",
        "leaves_qty_text",
        "avg_px_text",
        "text",
        "reject_code",
        "exec_ref_id",
        "request_id",
        "venue_ts",
        "poss_dup",
    )

    def __init__(
        self,
        command_id: str,
        ts: int,
        symbol: str,
        venue: str,
        report_kind: str,
        order_id: str,
        cl_ord_id: str,
        orig_cl_ord_id: str = "",
        exec_id: str = "",
        venue_order_id: str = "",
        ord_status: str = "",
        is_fill: bool = False,
        last_qty: int = 0,
        last_px: int = 0,
        cum_qty: int = 0,
        leaves_qty: int = 0,
        on_grid: bool = True,
        last_qty_text: str = "",
        last_px_text: str = "",
        cum_qty_text: str = "",
        leaves_qty_text: str = "",
        avg_px_text: str = "",
        text: str = "",
        reject_code: str = "",
        exec_ref_id: str = "",
        request_id: str = "",
        venue_ts: int = 0,
        poss_dup: bool = False,
    ) -> None:
        super().__init__(command_id, ts, symbol)
        self.venue: Final = venue
        self.report_kind: Final = report_kind
        self.order_id: Final = order_id
        self.cl_ord_id: Final = cl_ord_id
        self.orig_cl_ord_id: Final = orig_cl_ord_id
        self.exec_id: Final = exec_id
        self.venue_order_id: Final = venue_order_id
        self.ord_status: Final = ord_status
        self.is_fill: Final = is_fill
        self.last_qty: Final = last_qty
        self.last_px: Final = last_px
        self.cum_qty: Final = cum_qty
        self.leaves_qty: Final = leaves_qty
        self.on_grid: Final = on_grid
        self.last_qty_text: Final = last_qty_text
        self.last_px_text: Final = last_px_text
        self.cum_qty_text: Final = cum_qty_text
        self.leaves_qty_text: Final = leaves_qty_text
        self.avg_px_text: Final = avg_px_text
        self.text: Final = text
        self.reject_code: Final = reject_code
        self.exec_ref_id: Final = exec_ref_id
        self.request_id: Final = request_id
        self.venue_ts: Final = venue_ts
        self.poss_dup: Final = poss_dup


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.KIND: cls
    for cls in (
        NewOrder,
        NewOrderGroup,
        CancelOrder,
        ReplaceOrder,
        CancelAll,
        ExpireOrders,
        SetTradingState,
        ConfigureInstrument,
        SetReferencePrices,
        RecordOutcome,
        VenueReport,
    )
}


def command_from_dict(data: dict[str, object]) -> Command:
    """Rebuild a command from `Command.to_dict()` output (bus bodies, journal). Fields are
    appended only, with defaults, so a body that lacks the newest ones still decodes."""
    cls = COMMAND_TYPES[str(data["kind"])]
    if cls is NewOrderGroup:
        orders = data["orders"]
        if not isinstance(orders, list):
            raise ValueError("a new_order_group carries a list of orders")
        return NewOrderGroup(
            str(data["command_id"]),
            int(str(data["ts"])),
            str(data["symbol"]),
            str(data["order_class"]),
            tuple(_new_order(o) for o in orders),
        )
    return cls(*_leading_fields(cls.FIELDS, data))  # type: ignore[arg-type]


def _new_order(data: object) -> NewOrder:
    if not isinstance(data, dict) or data.get("kind") != NewOrder.KIND:
        raise ValueError("every order of a group is a new_order")
    order = command_from_dict(data)
    assert isinstance(order, NewOrder)
    return order


def _leading_fields(names: tuple[str, ...], data: dict[str, object]) -> list[object]:
    """The values of `names` up to the first one `data` lacks. A body may lack only the
    newest fields (they have defaults; the constructor refuses a missing older one)."""
    values: list[object] = []
    for i, name in enumerate(names):
        if name not in data:
            if any(later in data for later in names[i + 1 :]):
                raise ValueError(f"{data.get('kind')} lacks {name}")
            break
        values.append(data[name])
    return values
