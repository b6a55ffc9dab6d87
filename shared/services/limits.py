"""The limits an order takes a share of, reserved in its account's risk ledger atomically
with the order (see shared.ports.store_risk), and given back as the order fills or ends.

A new order takes one order-rate token, one open order (on its instrument), one of today's
orders and the buying power its open quantity is worth at its price (`reserved`, kept on
the order); a replace that raises that worth takes the difference. The projector gives back
what an order no longer needs (`held`): the buying power of what filled or was canceled,
the rest and the open order once it has ended. Stateless checks (trading states, collar,
the notional of one order) stay in shared.services.risk.

Buying power (shared.services.balances, the README's rule): max(0, equity + credit limit -
gross market value - open orders). The part before the open orders (`Ask.power`: cash,
positions at their marks, the credit limit) is read just before the order's write; the open
orders are the ledger's `open_notional`, so concurrent orders of an account never hold more
than its buying power between them. An order that can only reduce the account's position
(`Ask.reduces`, as read) needs none when no other order of the account is open on its
instrument: the ledger's per-instrument count says so in the same atomic step, so of two
concurrent closing orders only one is exempt. It still holds its worth, like any order.

To add a limit: a counter in RiskLedger (and its codec in store_codec), its check in
`failures`, what an order takes in `take` and what it gives back in `give_back`. Rules are
pure functions of the stored ledger: the stores run them inside their atomic step.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from shared.domain import reasons
from shared.domain.enums import OrderStatus
from shared.domain.instrument import Instrument
from shared.domain.order import OPEN_STATUSES, Order
from shared.ports.store_accounts import RiskLimits
from shared.ports.store_risk import LedgerChange, RiskLedger
from shared.services import codes
from shared.services.checklist import Checklist
from shared.services.errors import RateLimited, RiskRefused, ServiceError

_NS = 1_000_000_000
_ZERO = Decimal(0)
_OPEN = frozenset(OPEN_STATUSES)


def money(instrument: Instrument, lots: int, ticks: int) -> Decimal:
    return _money(instrument.lot_size, instrument.tick_size, lots, ticks)


@functools.lru_cache(maxsize=65_536)  # a book's orders repeat a few quantities and prices
def _money(lot_size: Decimal, tick_size: Decimal, lots: int, ticks: int) -> Decimal:
    return Decimal(lots) * lot_size * Decimal(ticks) * tick_size


@dataclass(frozen=True, slots=True)
class Ask:
    """What one order asks of its account's limits.

    `notional`: the buying power to hold (a replace: the increase); `power`: the account's
    buying power before its open orders (equity + credit limit - gross market value), as
    read just before; `new_order`: a new order also takes a rate token, and `orders` open
    orders and of today's orders (a contingent group: one per order of the group); `day`:
    today (yyyymmdd) at `now` (ns); `symbol`: its instrument; `reduces`: it can only shrink
    the account's position there (as read)."""

    notional: Decimal
    power: Decimal
    now: int
    day: str
    new_order: bool = True
    symbol: str = ""
    reduces: bool = False
    orders: int = 1


def buying_power_left(ledger: RiskLedger, power: Decimal) -> Decimal:
    """What the account's open orders leave of `power` (never below 0)."""
    return max(_ZERO, power - ledger.open_notional)


def _exempt(ledger: RiskLedger, ask: Ask) -> bool:
    """Whether the ask needs no buying power: it only reduces the position and no other
    order of the account is open on the instrument (a ledger of an older version, with open
    orders it cannot place on an instrument, exempts nothing)."""
    if not ask.reduces or sum(ledger.open_symbols.values()) != ledger.open_orders:
        return False
    return ledger.open_symbols.get(ask.symbol, 0) <= (0 if ask.new_order else 1)


def _refill(ledger: RiskLedger, limits: RiskLimits, now: int) -> float:
    elapsed = max(0, now - ledger.rate_at) / _NS
    return min(float(limits.burst), ledger.rate_tokens + elapsed * limits.rate_per_second)


def failures(
    ledger: RiskLedger, ask: Ask, limits: RiskLimits, checklist: Checklist | None = None
) -> list[ServiceError]:
    """Every limit the ask would break, in the order they are checked. With a checklist (a
    preview's), each check is recorded with its figures, passed or failed."""
    found: list[ServiceError] = []
    error: ServiceError | None
    if ask.new_order:
        tokens = _refill(ledger, limits, ask.now)
        error = None
        if tokens < 1.0:
            error = RateLimited(
                reasons.RATE_LIMIT_EXCEEDED,
                f"more than {limits.rate_per_second} orders per second (burst {limits.burst})",
                1.0 / max(limits.rate_per_second, 1),
            )
            found.append(error)
        if checklist is not None:
            rate = f"{limits.rate_per_second}/s, burst {limits.burst}"
            passed = f"{int(tokens)} more orders may be sent now ({rate})"
            _record(checklist, "order_rate", error, passed, str(int(tokens)), rate)
        error = None
        if ledger.open_orders + ask.orders > limits.max_open_orders:
            error = RiskRefused(
                reasons.MAX_OPEN_ORDERS_EXCEEDED,
                f"{ledger.open_orders} open orders (limit {limits.max_open_orders})",
            )
            found.append(error)
        if checklist is not None:
            opened, most = ledger.open_orders, limits.max_open_orders
            passed = f"{opened} open orders and {ask.orders} more are within the limit {most}"
            _record(checklist, "max_open_orders", error, passed, str(opened), str(most))
        today = ledger.day_orders if ledger.day == ask.day else 0
        error = None
        if today + ask.orders > limits.max_daily_orders:
            error = RiskRefused(
                reasons.DAILY_ORDER_LIMIT_EXCEEDED,
                f"{today} orders today (limit {limits.max_daily_orders})",
            )
            found.append(error)
        if checklist is not None:
            most = limits.max_daily_orders
            passed = f"{today} orders today and {ask.orders} more are within the limit {most}"
            _record(checklist, "max_daily_orders", error, passed, str(today), str(most))
    if ask.notional > 0 and not _exempt(ledger, ask):
        power = buying_power_left(ledger, ask.power)
        error = None
        if ask.notional > power:
            error = RiskRefused(
                codes.INSUFFICIENT_BUYING_POWER,
                f"notional {ask.notional.normalize():f} is above the buying power"
                f" {power.normalize():f}",
                "quantity",
            )
            found.append(error)
        if checklist is not None:
            value, left = f"{ask.notional.normalize():f}", f"{power.normalize():f}"
            passed = f"notional {value} is within the buying power {left}"
            _record(checklist, "buying_power", error, passed, value, left, "quantity")
    elif checklist is not None:
        passed = (
            "it only reduces the position: it needs no buying power"
            if ask.notional > 0
            else "it holds no buying power"
        )
        checklist.passed("buying_power", passed, value=f"{ask.notional.normalize():f}")
    return found


def _record(
    checklist: Checklist,
    name: str,
    error: ServiceError | None,
    passed: str,
    value: str,
    limit: str,
    field: str | None = None,
) -> None:
    if error is None:
        checklist.passed(name, passed, field=field, value=value, limit=limit)
    else:
        checklist.failed(name, error.reason, error.detail, field=field, value=value, limit=limit)


def take(ledger: RiskLedger, ask: Ask, limits: RiskLimits) -> RiskLedger:
    """The ledger with the ask taken; raises the first limit it would break."""
    refused = failures(ledger, ask, limits)
    if refused:
        raise refused[0]
    if not ask.new_order:
        return dataclasses.replace(ledger, open_notional=ledger.open_notional + ask.notional)
    today = ledger.day_orders if ledger.day == ask.day else 0
    return RiskLedger(
        ledger.account_id,
        ledger.open_orders + ask.orders,
        ledger.open_notional + ask.notional,
        ask.day,
        today + ask.orders,
        _refill(ledger, limits, ask.now) - 1.0,
        max(ledger.rate_at, ask.now),
        ledger.version,
        _counted(ledger.open_symbols, ask.symbol, ask.orders),
    )


def _counted(counts: Mapping[str, int], symbol: str, change: int) -> Mapping[str, int]:
    """The per-instrument open orders with `symbol`'s moved by `change` (none: left out)."""
    if not change:
        return counts
    moved = dict(counts)
    left = moved.get(symbol, 0) + change
    if left > 0:
        moved[symbol] = left
    else:
        moved.pop(symbol, None)
    return moved


def give_back(
    ledger: RiskLedger, open_orders: int, notional: Decimal, symbol: str = ""
) -> RiskLedger:
    """The ledger with `open_orders` open orders (on `symbol`) and `notional` of buying
    power given back."""
    return RiskLedger(  # built directly: dataclasses.replace costs more than the rest
        ledger.account_id,
        max(0, ledger.open_orders - open_orders),
        max(_ZERO, ledger.open_notional - notional),
        ledger.day,
        ledger.day_orders,
        ledger.rate_tokens,
        ledger.rate_at,
        ledger.version,
        _counted(ledger.open_symbols, symbol, -open_orders),
    )


def untake(ledger: RiskLedger, ask: Ask) -> RiskLedger:
    """Give back what `take` took for `ask` (its order could not be stored); the rate
    token stays spent, as the order was asked for."""
    if not ask.new_order:
        return give_back(ledger, 0, ask.notional)
    back = give_back(ledger, ask.orders, ask.notional, ask.symbol)
    if back.day == ask.day:
        back = dataclasses.replace(back, day_orders=max(0, back.day_orders - ask.orders))
    return back


def taking(account_id: str, ask: Ask, limits: RiskLimits, fresh: RiskLedger) -> LedgerChange:
    """The ledger change of a placement (or a replace) that takes `ask`."""
    return LedgerChange(
        account_id,
        lambda ledger: take(ledger, ask, limits),
        fresh,
        takes=True,
        undo=lambda ledger: untake(ledger, ask),
    )


def counting(account_id: str, symbol: str, day: str, fresh: RiskLedger) -> LedgerChange:
    """The ledger change of an order placed past the pre-trade checks by an administrator
    (a paper reset's flattening): it counts as open, on its instrument, and as one of
    today's orders, and holds no buying power, so its end gives back what it took."""

    def opened(ledger: RiskLedger) -> RiskLedger:
        today = ledger.day_orders if ledger.day == day else 0
        return dataclasses.replace(
            ledger,
            open_orders=ledger.open_orders + 1,
            open_symbols=_counted(ledger.open_symbols, symbol, 1),
            day=day,
            day_orders=today + 1,
        )

    return LedgerChange(
        account_id,
        opened,
        fresh,
        takes=True,
        undo=lambda ledger: give_back(ledger, 1, _ZERO, symbol),
    )


def held(order: Order, instrument: Instrument) -> Decimal:
    """The credit `order` needs to hold now (never more than it holds): none once it has
    ended; else its open quantity at its price, or at the price of a replace it asked for
    if that is worth more; an order without a price (market) keeps what it took."""
    if order.status not in _OPEN:
        return Decimal(0)
    price = order.limit_price if order.limit_price is not None else order.stop_price
    if price is None:
        return order.reserved
    need = money(instrument, order.leaves_qty + order.held_qty, price)
    command = order.pending_command
    if order.status is OrderStatus.PENDING_REPLACE and command is not None:
        quantity = int(str(command.get("quantity") or 0)) or order.quantity
        target = int(str(command.get("price") or 0)) or int(str(command.get("stop_price") or 0))
        leaves = max(0, quantity - order.cum_qty)
        need = max(need, money(instrument, leaves, target or price))
    return min(order.reserved, need)


def release(order: Order, was_open: bool, instrument: Instrument) -> LedgerChange | None:
    """What a change of `order` (open before it: `was_open`) gives back to its account's
    ledger, as a ledger change (None: nothing). Sets `order.reserved` to what it still
    holds, so the order's write records it."""
    had = order.reserved
    order.reserved = held(order, instrument)
    ended = 1 if was_open and order.status not in _OPEN else 0
    credit = had - order.reserved
    if not ended and not credit:
        return None
    return LedgerChange(
        order.account_id, lambda ledger: give_back(ledger, ended, credit, order.symbol), None
    )


def is_open(order: Order) -> bool:
    """Whether the order counts as open in its account's ledger."""
    return order.status in _OPEN
