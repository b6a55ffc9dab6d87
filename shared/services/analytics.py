"""Execution analytics: how well each order was executed, and the same in aggregate.

Per order (from the order itself, which keeps its times: see `shared.domain.order`): the
average fill price, fees, fill rate (filled / ordered quantity), the latencies from receipt
(the API's intake time) to acceptance, first fill and completion (the matcher's processing
times of the commands behind those events), and, where the arrival price is known (the
market the matcher reported when it accepted the order, or triggered a stop: the fill
simulator's reference price for paper orders, else the book's mid, else the last trade),
slippage in bps signed so that positive is a cost (buy: average above arrival; sell: below)
and implementation shortfall (the slippage in money on the filled quantity, plus fees).
Null when not known (no fill, an empty book and no trade yet, or an order the matcher
accepted before it reported the market).

In aggregate, by account, instrument, venue (internal or paper) and time window (the
orders created in it): counts, the fill rate (filled / ordered quantity), slippage p50 /
p95 / mean, fees, and latency percentiles.

Shadow mode (an order also run, unseen by the book, on the fill simulator): the simulated
fills against the real ones, per order (`ShadowComparison`) and in aggregate: the price
difference in bps of the real average (signed like slippage: positive when the simulator
would have cost more), the quantity difference (simulated - real filled) and the time to
the first fill (simulated - real, ms), all from event timestamps (command times), so the
same after a replay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from shared.domain.enums import AccountType
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.domain.positions import FEE_UNITS
from shared.ports.store_accounts import Account
from shared.ports.store_paging import MAX_PAGE_SIZE
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest
from shared.services.orders_io import load_order
from shared.services.queries import Instruments

_INT64_MAX = 2**63 - 1


def _clamp(ns: int | None) -> int | None:
    return None if ns is None else max(-_INT64_MAX, min(ns, _INT64_MAX))


MAX_ORDERS = 100_000
"""The most orders one aggregate reads; a wider window is refused (narrow it)."""

GROUPS = ("account", "instrument", "venue")
_MS = Decimal(1_000_000)
_BPS = Decimal(10_000)
_RATE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class ShadowComparison:
    """One order's simulated copy against the order itself (None: not known yet)."""

    average_fill_price: Decimal | None
    filled_quantity: Decimal
    fees: Decimal
    first_fill_ms: Decimal | None  # from receipt, in command time
    complete_ms: Decimal | None
    real_first_fill_ms: Decimal | None
    real_complete_ms: Decimal | None
    price_difference_bps: Decimal | None
    quantity_difference: Decimal
    first_fill_difference_ms: Decimal | None


@dataclass(frozen=True, slots=True)
class OrderQuality:
    """One order's execution quality (Decimal money, ms latencies; None: not known)."""

    order: Order
    venue: str
    average_fill_price: Decimal | None
    fees: Decimal
    fill_rate: Decimal
    arrival_price: Decimal | None
    slippage_bps: Decimal | None
    implementation_shortfall: Decimal | None
    accept_ms: Decimal | None
    first_fill_ms: Decimal | None
    complete_ms: Decimal | None
    shadow: ShadowComparison | None = None


def _ms(at: int, since: int) -> Decimal | None:
    return (Decimal(at - since) / _MS).quantize(Decimal("0.001")) if at else None


def venue_of(account: Account) -> str:
    return "paper" if account.type is AccountType.PAPER else "internal"


def quality(order: Order, instrument: Instrument, venue: str) -> OrderQuality:
    """The order's execution quality (see the module docstring)."""
    o = order
    tick, lot = instrument.tick_size, instrument.lot_size
    average = None
    if o.cum_qty:
        average = Decimal(o.filled_notional) / Decimal(o.cum_qty) * tick
    fees = Decimal(o.fees) * tick * lot / FEE_UNITS
    half = o.arrival_half_ticks
    arrival = Decimal(half) * tick / 2 if half else None
    slippage = shortfall = None
    if arrival is not None and average is not None:
        sign = 1 if o.side.value == "buy" else -1
        slippage = (sign * (average - arrival) / arrival * _BPS).quantize(Decimal("0.01"))
        filled = Decimal(o.cum_qty) * lot
        shortfall = sign * (average - arrival) * filled + fees
    fill_rate = Decimal(0)
    if o.quantity:
        fill_rate = (Decimal(o.cum_qty) / Decimal(o.quantity)).quantize(_RATE)
    return OrderQuality(
        shadow=shadow_comparison(o, instrument, average),
        order=o,
        venue=venue,
        average_fill_price=average,
        fees=fees,
        fill_rate=fill_rate.normalize(),
        arrival_price=arrival,
        slippage_bps=slippage,
        implementation_shortfall=shortfall,
        accept_ms=_ms(o.accepted_at, o.created_at),
        first_fill_ms=_ms(o.first_fill_at, o.created_at),
        complete_ms=_ms(o.completed_at, o.created_at),
    )


def shadow_comparison(
    o: Order, instrument: Instrument, real_average: Decimal | None
) -> ShadowComparison | None:
    s = o.shadow
    if s is None:
        return None
    tick, lot = instrument.tick_size, instrument.lot_size
    average = Decimal(s.notional) / Decimal(s.cum_qty) * tick if s.cum_qty else None
    difference = None
    if average is not None and real_average:
        sign = 1 if o.side.value == "buy" else -1
        difference = (sign * (average - real_average) / real_average * _BPS).quantize(
            Decimal("0.01")
        )
    first, real_first = _ms(s.first_fill_ts, o.created_at), _ms(s.real_first_fill_ts, o.created_at)
    return ShadowComparison(
        average_fill_price=average,
        filled_quantity=Decimal(s.cum_qty) * lot,
        fees=Decimal(s.fees) * tick * lot / FEE_UNITS,
        first_fill_ms=first,
        complete_ms=_ms(s.done_ts, o.created_at),
        real_first_fill_ms=real_first,
        real_complete_ms=_ms(s.real_done_ts, o.created_at),
        price_difference_bps=difference,
        quantity_difference=Decimal(s.cum_qty - o.cum_qty) * lot,
        first_fill_difference_ms=None
        if first is None or real_first is None
        else first - real_first,
    )


async def order_quality(deps: Deps, account: Account, order_id: str) -> OrderQuality:
    """The caller's order's execution quality; NotFound for another's order."""
    order = await load_order(deps, account.account_id, order_id)
    instrument = await Instruments(deps).get(order.symbol)
    return quality(order, instrument, venue_of(account))


# ------------------------------------------------------------------ aggregates


def percentile(ordered: list[Decimal], q: int) -> Decimal | None:
    """The nearest-rank q-th percentile of sorted values (None when there are none)."""
    if not ordered:
        return None
    rank = max(1, -(-q * len(ordered) // 100))
    return ordered[rank - 1]


def spread(values: Iterable[Decimal | None]) -> dict[str, Decimal | None]:
    known = sorted(v for v in values if v is not None)
    mean = (sum(known, Decimal(0)) / len(known)).quantize(Decimal("0.001")) if known else None
    return {
        "p50": percentile(known, 50),
        "p95": percentile(known, 95),
        "p99": percentile(known, 99),
        "mean": mean,
    }


@dataclass(frozen=True, slots=True)
class Aggregate:
    """The execution quality of a group of orders."""

    key: dict[str, str]
    orders: int
    filled_orders: int
    fill_rate: Decimal
    fees: Decimal
    slippage_bps: dict[str, Decimal | None]
    accept_ms: dict[str, Decimal | None]
    first_fill_ms: dict[str, Decimal | None]
    complete_ms: dict[str, Decimal | None]
    shadow: ShadowAggregate | None = None


@dataclass(frozen=True, slots=True)
class ShadowAggregate:
    """Simulated against real fills over a group's shadowed orders."""

    orders: int
    price_difference_bps: dict[str, Decimal | None]
    quantity_difference: Decimal
    first_fill_difference_ms: dict[str, Decimal | None]


def shadow_aggregate(members: list[OrderQuality]) -> ShadowAggregate | None:
    shadows = [r.shadow for r in members if r.shadow is not None]
    if not shadows:
        return None
    return ShadowAggregate(
        orders=len(shadows),
        price_difference_bps=spread(s.price_difference_bps for s in shadows),
        quantity_difference=sum((s.quantity_difference for s in shadows), Decimal(0)),
        first_fill_difference_ms=spread(s.first_fill_difference_ms for s in shadows),
    )


def aggregate(rows: list[OrderQuality], group_by: tuple[str, ...]) -> list[Aggregate]:
    """Group and sum the orders' quality (fill rate: filled over ordered quantity, each
    order's fraction weighted by its quantity)."""
    keys: Mapping[str, Callable[[OrderQuality], str]] = {
        "account": lambda r: r.order.account_id,
        "instrument": lambda r: r.order.symbol,
        "venue": lambda r: r.venue,
    }
    groups: dict[tuple[str, ...], list[OrderQuality]] = {}
    for row in rows:
        groups.setdefault(tuple(keys[g](row) for g in group_by), []).append(row)
    out = []
    for key, members in sorted(groups.items()):
        ordered = sum(Decimal(r.order.quantity) for r in members)
        filled = sum((Decimal(r.order.cum_qty) for r in members), Decimal(0))
        out.append(
            Aggregate(
                key=dict(zip(group_by, key, strict=True)),
                orders=len(members),
                filled_orders=sum(1 for r in members if r.order.status.value == "filled"),
                fill_rate=(filled / ordered).quantize(_RATE) if ordered else Decimal(0),
                fees=sum((r.fees for r in members), Decimal(0)),
                slippage_bps=spread(r.slippage_bps for r in members),
                accept_ms=spread(r.accept_ms for r in members),
                first_fill_ms=spread(r.first_fill_ms for r in members),
                complete_ms=spread(r.complete_ms for r in members),
                shadow=shadow_aggregate(members),
            )
        )
    return out


async def account_rows(
    deps: Deps,
    account: Account,
    symbol: str | None,
    since: int | None,
    until: int | None,
    instruments: Instruments,
    limit: int = MAX_ORDERS,
) -> list[OrderQuality]:
    """The quality of every order the account created in the window."""
    rows: list[OrderQuality] = []
    venue = venue_of(account)
    cursor = None
    while True:
        page = await deps.store.orders.list_orders(
            account.account_id,
            symbol=symbol,
            since=since,
            until=until,
            limit=MAX_PAGE_SIZE,
            cursor=cursor,
        )
        for order in page.items:
            rows.append(quality(order, await instruments.get(order.symbol), venue))
        if len(rows) > limit:
            raise InvalidRequest(
                codes.INVALID_VALUE,
                f"more than {limit} orders in the window: narrow it (since, until, symbol)",
                "since",
            )
        cursor = page.next_cursor
        if cursor is None:
            return rows


async def analytics(
    deps: Deps,
    accounts: list[Account],
    group_by: tuple[str, ...],
    symbol: str | None,
    since: int | None,
    until: int | None,
) -> list[Aggregate]:
    """The accounts' orders created in [since, until), aggregated by `group_by`."""
    since, until = _clamp(since), _clamp(until)
    instruments = Instruments(deps)
    rows: list[OrderQuality] = []
    for account in accounts:
        rows += await account_rows(
            deps, account, symbol, since, until, instruments, MAX_ORDERS - len(rows)
        )
    return aggregate(rows, group_by)
