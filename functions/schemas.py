"""Request and response models of the HTTP API (and of bot order messages).

Requests forbid unknown fields, so server-owned fields (`order_id`, `status`, ...) are
refused by name. Decimals travel as strings; times as RFC 3339.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StringConstraints,
    Tag,
)

from shared.domain.enums import (
    AccountType,
    AssetClass,
    Leg,
    Liquidity,
    OrderClass,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingState,
)

DECIMAL_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,12})?$"
SYMBOL_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,31}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

DecimalStr = Annotated[str, StringConstraints(pattern=DECIMAL_PATTERN, max_length=28)]
Symbol = Annotated[str, StringConstraints(pattern=SYMBOL_PATTERN, max_length=32)]
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3,5}$")]
SettlementDays = Annotated[int, Field(ge=0, le=10)]
Role = Literal["trader", "admin"]


_ORDER_STATUSES = {status.value: status for status in OrderStatus}


class OrderStatusFilter(StrEnum):
    """What `GET /api/orders?status=` takes: every order status, and FIX's `replaced` and
    `suspended`, which no order here ever takes (a replace keeps the order id, a halt cancels
    the working orders): a filter on them is accepted and matches no order."""

    PENDING_NEW = OrderStatus.PENDING_NEW.value
    HELD = OrderStatus.HELD.value
    NEW = OrderStatus.NEW.value
    PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED.value
    FILLED = OrderStatus.FILLED.value
    PENDING_CANCEL = OrderStatus.PENDING_CANCEL.value
    CANCELED = OrderStatus.CANCELED.value
    PENDING_REPLACE = OrderStatus.PENDING_REPLACE.value
    REPLACED = "replaced"
    REJECTED = OrderStatus.REJECTED.value
    EXPIRED = OrderStatus.EXPIRED.value
    SUSPENDED = "suspended"

    def status(self) -> OrderStatus | None:
        """The order status filtered on; None for one no order takes."""
        return _ORDER_STATUSES.get(self.value)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ orders


class TakeProfit(Request):
    """A bracket's (or OTO's, OCO's) take-profit exit: a limit order on the other side."""

    limit_price: DecimalStr
    client_order_id: Identifier | None = Field(
        default=None, description="Default: the order's client_order_id + `-tp`."
    )


class StopLoss(Request):
    """A stop-loss exit: `stop_price` (a stop order; with `limit_price` a stop-limit), or
    `trail_amount` / `trail_percent` (a trailing stop)."""

    stop_price: DecimalStr | None = None
    limit_price: DecimalStr | None = None
    trail_amount: DecimalStr | None = None
    trail_percent: DecimalStr | None = None
    client_order_id: Identifier | None = Field(
        default=None, description="Default: the order's client_order_id + `-sl`."
    )


class PlaceOrder(Request):
    """A new order, or a contingent group (`order_class` bracket, oto, oco) in Alpaca's
    shape: the top-level fields are the entry (for oco: the take-profit leg, and `side` is
    the exits' side), `take_profit` and `stop_loss` the exits."""

    symbol: Symbol
    side: Side
    type: OrderType
    quantity: DecimalStr
    limit_price: DecimalStr | None = None
    stop_price: DecimalStr | None = None
    trail_amount: DecimalStr | None = Field(
        default=None, description="trailing_stop: the trail as a price distance."
    )
    trail_percent: DecimalStr | None = Field(
        default=None, description="trailing_stop: the trail in percent of the price."
    )
    time_in_force: TimeInForce = TimeInForce.DAY
    expire_at: AwareDatetime | None = None
    client_order_id: Identifier | None = None
    display_quantity: DecimalStr | None = Field(
        default=None, description="Iceberg (limit only): the part shown in the book."
    )
    post_only: StrictBool = False  # a JSON boolean: "yes" or 1 is INVALID_VALUE
    reduce_only: StrictBool = False
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit: TakeProfit | None = None
    stop_loss: StopLoss | None = None


class ReplaceOrder(Request):
    """FIX-style replace: `quantity` is the new total quantity, the filled part included."""

    quantity: DecimalStr | None = None
    limit_price: DecimalStr | None = None
    stop_price: DecimalStr | None = None
    trail_amount: DecimalStr | None = None
    trail_percent: DecimalStr | None = None
    client_order_id: Identifier | None = None


class OrderOut(Response):
    order_id: str
    client_order_id: str
    previous_client_order_ids: list[str]
    account_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: str
    limit_price: str | None
    stop_price: str | None
    expire_at: str | None
    status: OrderStatus
    filled_quantity: str
    leaves_quantity: str
    canceled_quantity: str
    average_fill_price: str | None
    fees: str
    reject_reason: str | None
    reject_text: str | None  # an external venue's own words when it refused
    created_at: str
    updated_at: str
    seq: int
    held_quantity: str = Field(description="A contingent leg's part not live yet.")
    display_quantity: str | None
    post_only: bool
    reduce_only: bool
    trail_amount: str | None
    trail_percent: str | None
    high_water_mark: str | None = Field(
        description="A trailing stop's best price reached (highest for a sell)."
    )
    order_class: OrderClass
    leg: Leg | None
    parent_order_id: str | None
    legs: list[OrderOut] | None = Field(
        description="A group's parent: its child orders (on one order's answer, and in lists"
        " with nested=true); null otherwise."
    )


class OrderPage(Response):
    items: list[OrderOut]
    next_cursor: str | None


class Failure(Response):
    reason: str
    field: str | None
    detail: str


class CheckOut(Response):
    """One pre-trade check a preview ran: passed or not, with the figures it compared."""

    name: str = Field(
        description="Stable name: instrument, market_session, time_in_force, quantity_grid,"
        " quantity_bounds, limit_price, stop_price, trail, display_quantity, expire_at,"
        " order_group, venue_rules, global_trading_state, account_trading_state,"
        " instrument_trading_state, reduce_only, price_collar, max_order_notional,"
        " order_rate, max_open_orders, max_daily_orders, buying_power, client_order_id"
        " (order: another rule of the request)"
    )
    passed: bool
    reason: str | None = Field(description="The reason code placing would answer; null if passed")
    field: str | None = Field(description="The request field the check concerns, if one")
    detail: str = Field(description="What was checked, with its figures")
    value: str | None = Field(description="The order's figure (e.g. its notional), if one")
    limit: str | None = Field(description="The figure it is held to (e.g. the limit), if one")


class PreviewOut(Response):
    accepted: bool
    failures: list[Failure] = Field(description="The checks that failed, as placing answers them")
    notional: str | None
    checks: list[CheckOut] = Field(
        description="Every check run, in order, passed and failed (a refused request or"
        " instrument stops the checks that need it)"
    )


# ------------------------------------------------------------------ market data and fills


class ExecutionOut(Response):
    execution_id: str
    order_id: str
    trade_id: str
    symbol: str
    side: Side
    quantity: str
    price: str
    liquidity: Liquidity
    fee: str
    executed_at: str
    settlement_date: str | None = Field(description="The day its cash settles (T+n)")
    settled: bool
    settled_at: str | None = Field(description="When it was settled by hand, if it was")


class ExecutionPage(Response):
    items: list[ExecutionOut]
    next_cursor: str | None


class TradeOut(Response):
    trade_id: str
    symbol: str
    quantity: str
    price: str
    taker_side: Side
    executed_at: str


class TradePage(Response):
    items: list[TradeOut]
    next_cursor: None = None


class Level(Response):
    price: str
    quantity: str
    orders: int


class BookOut(Response):
    symbol: str
    seq: int
    updated_at: str | None
    bids: list[Level]
    asks: list[Level]


class PositionOut(Response):
    """A position and its P&L at its mark (average cost; realized gross of fees; net P&L =
    realized - fees). Money in the account's currency."""

    symbol: str
    net_quantity: str
    bought_quantity: str
    sold_quantity: str
    average_buy_price: str | None
    average_sell_price: str | None
    fees: str
    updated_at: str
    average_entry_price: str | None
    cost_basis: str
    mark_price: str | None
    mark_source: Literal["last_trade", "paper_reference", "reference_price"] | None
    market_value: str
    unrealized_pnl: str
    realized_pnl: str
    net_pnl: str
    pnl_today: str
    unsettled_cash: str


class PositionPage(Response):
    items: list[PositionOut]
    next_cursor: None = None


class ReferenceSourceOut(Response):
    source: Literal["walk", "file"]
    seed: int | None = None
    step_ticks: int | None = None
    step_ms: int | None = None
    points: int | None = None
    set_at: str | None


class PricePointIn(Request):
    at: AwareDatetime
    price: DecimalStr


class ReferencePricesIn(Request):
    """The paper market's reference price source: a seeded walk or a replayed price file."""

    source: Literal["walk", "file"]
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        None, description="walk: its seed (default: the instrument's own)."
    )
    step_ticks: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(
        None, description="walk: the standard deviation of a step, in ticks (default 1)."
    )
    step_ms: Annotated[int, Field(ge=1, le=86_400_000)] | None = Field(
        None, description="walk: one step every so many ms (default 1000)."
    )
    start_price: DecimalStr | None = Field(
        None, description="walk: where it starts (default: the reference price now)."
    )
    prices: Annotated[list[PricePointIn], Field(min_length=1, max_length=10_000)] | None = Field(
        None, description="file: the prices to replay, in ascending time."
    )


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}:[0-9]{2}$")]


class Session(Request):
    """When an instrument trades: local times of an IANA time zone, on the weekdays it opens
    (default Monday to Friday; a close not after the open runs into the next day).
    `"24h"` instead: it trades around the clock and its trading day ends at 00:00 UTC."""

    open: ClockTime = Field(examples=["09:30"])
    close: ClockTime = Field(examples=["16:00"])
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        examples=["America/New_York"]
    )
    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] | None = None


def _session_kind(value: object) -> str:
    return "@24h" if isinstance(value, str) else "@hours"


# One branch is validated (picked by the value's kind), so an error names the field inside
# the session (`session.close`); the `@` tags leave the field names (functions.problems).
SessionIn = Annotated[
    Annotated[Session, Tag("@hours")] | Annotated[Literal["24h"], Tag("@24h")],
    Discriminator(_session_kind),
]


class SessionOut(Response):
    open: str
    close: str
    timezone: str
    days: list[Weekday]


class InstrumentOut(Response):
    symbol: str
    tick_size: str
    lot_size: str
    min_quantity: str
    max_quantity: str
    price_collar_bps: int
    maker_fee_cbps: int
    taker_fee_cbps: int
    reference_price: str | None
    trading_state: TradingState
    venue: str | None = None
    asset_class: AssetClass
    settlement_days: int
    currency: str
    reference_source: ReferenceSourceOut | None = None
    session: Literal["24h"] | SessionOut


class InstrumentPage(Response):
    items: list[InstrumentOut]
    next_cursor: None = None


# ------------------------------------------------------------------ health


class Health(Response):
    status: Literal["ok"]


class Readiness(Response):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]


# ------------------------------------------------------------------ admin


class RiskLimitsIn(Request):
    max_order_notional: DecimalStr | None = None
    max_open_orders: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    max_daily_orders: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    rate_per_second: Annotated[int, Field(ge=1, le=100_000)] | None = None
    burst: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    credit_limit: DecimalStr | None = None


class RiskLimitsOut(Response):
    max_order_notional: str
    max_open_orders: int
    max_daily_orders: int
    rate_per_second: int
    burst: int
    credit_limit: str


class CreateAccount(Request):
    name: Name
    type: AccountType
    roles: Annotated[list[Role], Field(min_length=1, max_length=2)] = ["trader"]
    risk_limits: RiskLimitsIn | None = None
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST
    entra_object_id: Identifier | None = None
    currency: Currency = "USD"
    starting_cash: DecimalStr | None = Field(
        default=None, description="Paper accounts default to OMS_PAPER_STARTING_CASH, live to 0."
    )


VENUE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
VenueName = Annotated[str, StringConstraints(pattern=VENUE_PATTERN, max_length=32)]


class PartialFillsIn(Request):
    fill_ratio_pct: int | None = Field(
        None, description="Each fill step takes this % of the order quantity (1..100)."
    )
    interval_ms: DecimalStr | None = Field(None, description="At least this long between steps.")


class SimulatorIn(Request):
    """A paper account's fill simulator (its next orders); null: the instrument's default."""

    slippage_bps: DecimalStr | None = Field(
        None, description="Away from the reference price, against the trader (0.01 bp steps)."
    )
    impact_bps_per_lot: DecimalStr | None = Field(None, description="More slippage per lot.")
    latency_ms: DecimalStr | None = Field(None, description="Nothing fills before this.")
    partial_fills: PartialFillsIn | None = None


class PartialFillsOut(Response):
    fill_ratio_pct: int | None
    interval_ms: str | None


class SimulatorOut(Response):
    slippage_bps: str | None
    impact_bps_per_lot: str | None
    latency_ms: str | None
    partial_fills: PartialFillsOut


class ChangeAccount(Request):
    name: Name | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=2)] | None = None
    risk_limits: RiskLimitsIn | None = None
    stp: SelfTradePrevention | None = None
    trading_state: TradingState | None = None
    venue: VenueName | None = Field(
        None, description='Live accounts only: an external venue\'s name, or "internal".'
    )
    simulator: SimulatorIn | None = Field(
        None, description="Paper accounts only: the fill simulator of their next orders."
    )
    shadow: bool | None = Field(
        None,
        description="Live accounts only: shadow mode (their internal orders also run, unseen"
        " by the book, on the fill simulator; analytics compare the two).",
    )


class AccountOut(Response):
    account_id: str
    name: str
    type: AccountType
    roles: list[str]
    trading_state: TradingState
    stp: SelfTradePrevention
    risk_limits: RiskLimitsOut
    currency: str
    starting_cash: str
    created_at: str
    venue: str | None = None
    simulator: SimulatorOut | None = None
    shadow: bool = False


class RiskLedgerOut(Response):
    account_id: str
    open_orders: int
    open_notional: str
    day: str
    day_orders: int


class AccountCreated(Response):
    account: AccountOut
    api_key: str = Field(description="Shown once; only its hash is stored.")


class AccountPage(Response):
    items: list[AccountOut]
    next_cursor: None = None


Bps = Annotated[int, Field(ge=0, le=100_000)]


class CreateInstrument(Request):
    symbol: Symbol
    tick_size: DecimalStr
    lot_size: DecimalStr
    min_quantity: DecimalStr | None = None
    max_quantity: DecimalStr | None = None
    price_collar_bps: Bps = 1_000
    maker_fee_cbps: Bps = 0
    taker_fee_cbps: Bps = 0
    reference_price: DecimalStr | None = None
    asset_class: AssetClass = AssetClass.EQUITY
    settlement_days: SettlementDays | None = Field(
        default=None, description="T+n business days; default 0 for crypto, 1 for equities."
    )
    currency: Currency = "USD"
    session: SessionIn = "24h"


class ChangeInstrument(Request):
    min_quantity: DecimalStr | None = None
    max_quantity: DecimalStr | None = None
    price_collar_bps: Bps | None = None
    maker_fee_cbps: Bps | None = None
    taker_fee_cbps: Bps | None = None
    reference_price: DecimalStr | None = None
    trading_state: TradingState | None = None
    venue: VenueName | None = Field(
        None,
        description='Route live orders on this instrument to a venue ("internal": the'
        " account's own routing).",
    )
    settlement_days: SettlementDays | None = None
    session: SessionIn | None = None


class SetTradingState(Request):
    """The kill switch. `scope` account needs `account_id`, instrument needs `symbol`."""

    scope: Literal["account", "instrument", "global"]
    state: TradingState
    account_id: Identifier | None = None
    symbol: Symbol | None = None


class TradingStateOut(Response):
    scope: Literal["account", "instrument", "global"]
    target: str | None
    state: TradingState


class Problem(BaseModel):
    """RFC 9457 problem details, plus the stable `reason` code and the `field` at fault."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    reason: str
    field: str | None = None
    errors: list[Failure] | None = None
