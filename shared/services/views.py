"""The JSON shapes of the API's resources (and of the live feed messages): snake_case,
decimals as strings, times as RFC 3339 UTC with nanoseconds."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from shared.domain.instrument import Instrument, ReferenceSource
from shared.domain.numbers import cbps_to_percent, fee_to_str
from shared.domain.order import Order
from shared.domain.positions import date_of, utc_day
from shared.domain.sessions import describe
from shared.ports.store_accounts import Account
from shared.ports.store_executions import Execution
from shared.ports.store_positions import Position
from shared.ports.store_risk import RiskLedger
from shared.services.paper_controls import simulator_view

if TYPE_CHECKING:
    from shared.services.venues import VenueStatus

View = dict[str, object]
_AVERAGE_EXTRA_DIGITS = 6  # an average price carries 6 more decimals than the tick


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def ns_to_rfc3339(ns: int) -> str:
    """`2024-05-01T12:00:00.123456789Z` for a time in ns since the epoch."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    return f"{_second(seconds)}.{nanos:09d}Z"  # most times in a response share their second


def datetime_to_ns(value: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (naive means UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _price(instrument: Instrument, ticks: int | None) -> str | None:
    return None if ticks is None else instrument.price_str(ticks)


def average_price(instrument: Instrument, notional: int, quantity: int) -> str | None:
    """notional (ticks x lots) / quantity (lots) as a decimal price, or None for no fills."""
    if quantity == 0:
        return None
    exponent = instrument.tick_size.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    step = Decimal(1).scaleb(exponent - _AVERAGE_EXTRA_DIGITS)
    value = (Decimal(notional) / Decimal(quantity) * instrument.tick_size).quantize(step)
    return format(value.normalize(), "f")


def order_view(order: Order, instrument: Instrument, legs: list[Order] | None = None) -> View:
    """An order as the API shows it; `legs`: a group parent's child orders (shown nested,
    each a full view), None where they are not shown."""
    fees = fee_to_str(order.fees, instrument.tick_size, instrument.lot_size)
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "previous_client_order_ids": list(order.client_order_id_chain),
        "account_id": order.account_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "quantity": instrument.quantity_str(order.quantity),
        "limit_price": _price(instrument, order.limit_price),
        "stop_price": _price(instrument, order.stop_price),
        "expire_at": None if order.expire_at is None else ns_to_rfc3339(order.expire_at),
        "status": order.status.value,
        "filled_quantity": instrument.quantity_str(order.cum_qty),
        "leaves_quantity": instrument.quantity_str(order.leaves_qty),
        "canceled_quantity": instrument.quantity_str(order.canceled_qty),
        "average_fill_price": average_price(instrument, order.filled_notional, order.cum_qty),
        "fees": fees,
        "reject_reason": order.reject_reason,
        "reject_text": order.reject_text or None,
        "created_at": ns_to_rfc3339(order.created_at),
        "updated_at": ns_to_rfc3339(order.updated_at),
        "seq": order.seq,
        "held_quantity": instrument.quantity_str(order.held_qty),
        "display_quantity": instrument.quantity_str(order.display_qty)
        if order.display_qty
        else None,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "trail_amount": _price(instrument, order.trail_amount or None),
        "trail_percent": cbps_to_percent(order.trail_cbps) if order.trail_cbps else None,
        "high_water_mark": _price(instrument, order.high_water_mark),
        "order_class": order.order_class.value,
        "leg": order.leg or None,
        "parent_order_id": order.parent_order_id or None,
        "legs": None if legs is None else [order_view(leg, instrument) for leg in legs],
    }


def execution_view(execution: Execution, instrument: Instrument, now: int | None = None) -> View:
    """An execution; `settled` as of `now` (ns; None: as of the execution itself): settled
    by hand, or its settlement day has begun."""
    today = utc_day(execution.executed_at if now is None else now)
    settle_day = execution.settle_day
    return {
        "execution_id": execution.execution_id,
        "order_id": execution.order_id,
        "trade_id": execution.trade_id,
        "symbol": execution.symbol,
        "side": execution.side.value,
        "quantity": instrument.quantity_str(execution.quantity),
        "price": instrument.price_str(execution.price),
        "liquidity": execution.liquidity.value,
        "fee": fee_to_str(execution.fee, instrument.tick_size, instrument.lot_size),
        "executed_at": ns_to_rfc3339(execution.executed_at),
        "settlement_date": date_of(settle_day) if settle_day else None,
        "settled": bool(execution.settled_at) or settle_day <= today,
        "settled_at": ns_to_rfc3339(execution.settled_at) if execution.settled_at else None,
    }


def trade_view(execution: Execution, instrument: Instrument) -> View:
    """A public trade: no account, no order, no fee; `side` is the taker's side."""
    taker_side = execution.side.value
    if execution.liquidity.value == "maker":
        taker_side = "sell" if taker_side == "buy" else "buy"
    return {
        "trade_id": execution.trade_id,
        "symbol": execution.symbol,
        "quantity": instrument.quantity_str(execution.quantity),
        "price": instrument.price_str(execution.price),
        "taker_side": taker_side,
        "executed_at": ns_to_rfc3339(execution.executed_at),
    }


def position_view(position: Position, instrument: Instrument) -> View:
    quantity = instrument.quantity_str(abs(position.net_quantity))
    return {
        "symbol": position.symbol,
        "net_quantity": ("-" + quantity) if position.net_quantity < 0 else quantity,
        "bought_quantity": instrument.quantity_str(position.bought_quantity),
        "sold_quantity": instrument.quantity_str(position.sold_quantity),
        "average_buy_price": average_price(
            instrument, position.bought_notional, position.bought_quantity
        ),
        "average_sell_price": average_price(
            instrument, position.sold_notional, position.sold_quantity
        ),
        "fees": fee_to_str(position.fees, instrument.tick_size, instrument.lot_size),
        "updated_at": ns_to_rfc3339(position.updated_at),
    }


def instrument_view(instrument: Instrument) -> View:
    return {
        "symbol": instrument.symbol,
        "tick_size": format(instrument.tick_size.normalize(), "f"),
        "lot_size": format(instrument.lot_size.normalize(), "f"),
        "min_quantity": instrument.quantity_str(instrument.min_quantity),
        "max_quantity": instrument.quantity_str(instrument.max_quantity),
        "price_collar_bps": instrument.price_collar_bps,
        "maker_fee_cbps": instrument.maker_fee_cbps,
        "taker_fee_cbps": instrument.taker_fee_cbps,
        "reference_price": _price(instrument, instrument.reference_price),
        "trading_state": instrument.trading_state.value,
        "asset_class": instrument.asset_class.value,
        "settlement_days": instrument.settlement_days,
        "currency": instrument.currency,
        "venue": instrument.venue,
        "session": describe(instrument.session),
        "reference_source": reference_source_view(instrument.reference_source),
    }


def reference_source_view(source: ReferenceSource) -> View:
    """The paper market's reference price source (see ReferenceSource)."""
    if source.kind == "file":
        return {"source": "file", "points": source.points, "set_at": _at(source.set_at)}
    return {
        "source": "walk",
        "seed": source.seed,
        "step_ticks": source.step_ticks,
        "step_ms": source.step_ns // 1_000_000,
        "set_at": _at(source.set_at),
    }


def _at(ns: int) -> str | None:
    return ns_to_rfc3339(ns) if ns else None


def risk_ledger_view(ledger: RiskLedger) -> View:
    return {
        "account_id": ledger.account_id,
        "open_orders": ledger.open_orders,
        "open_notional": format(ledger.open_notional.normalize(), "f"),
        "day": ledger.day,
        "day_orders": ledger.day_orders,
    }


def account_view(account: Account) -> View:
    limits = account.risk_limits
    return {
        "account_id": account.account_id,
        "name": account.name,
        "type": account.type.value,
        "roles": list(account.roles),
        "trading_state": account.trading_state.value,
        "stp": account.stp.value,
        "risk_limits": {
            "max_order_notional": format(limits.max_order_notional, "f"),
            "max_open_orders": limits.max_open_orders,
            "max_daily_orders": limits.max_daily_orders,
            "rate_per_second": limits.rate_per_second,
            "burst": limits.burst,
            "credit_limit": format(limits.credit_limit, "f"),
        },
        "currency": account.currency,
        "starting_cash": format(account.starting_cash, "f"),
        "created_at": ns_to_rfc3339(account.created_at),
        "venue": account.venue,
        "simulator": simulator_view(account),
        "shadow": account.shadow,
    }


def venue_view(status: VenueStatus) -> View:
    """A venue with its connection (credentials as setting names only)."""
    venue, fix, alpaca = status.venue, status.venue.fix, status.venue.alpaca
    view: View = {
        "name": venue.name,
        "kind": venue.kind.value,
        "version": venue.version,
        "deleting": venue.deleting,
        "state": status.state.value,
        "last_error": status.last_error,
        "state_at": ns_to_rfc3339(status.updated_at) if status.updated_at else None,
        "rate_per_second": venue.rate_per_second,
        "burst": venue.burst,
        "credentials": dict(venue.credentials),
        "created_at": ns_to_rfc3339(venue.created_at),
    }
    if fix is not None:
        view |= {
            "host": fix.host,
            "port": fix.port,
            "sender_comp_id": fix.sender_comp_id,
            "target_comp_id": fix.target_comp_id,
            "begin_string": fix.begin_string,
            "heartbeat_seconds": fix.heartbeat_seconds,
            "session_start": fix.session_start,
            "session_end": fix.session_end,
            "username": fix.username,
        }
    if alpaca is not None:
        view |= {"environment": alpaca.environment, "base_url": alpaca.base_url}
    return view
