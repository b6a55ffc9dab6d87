"""Plain-dict forms of the stored records, shared by the adapters.

Every value is a str, int, bool, None, list or dict, so the same dict is a JSON column in
SQLite and a BSON document in MongoDB. Decimals travel as strings, enums as their values.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.domain.enums import (
    AccountType,
    Liquidity,
    OrderClass,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingState,
)
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.domain.sessions import ALL_DAY, describe, from_description
from shared.ports.store_accounts import Account, RiskLimits
from shared.ports.store_executions import Execution
from shared.ports.store_positions import Position

Doc = dict[str, Any]


def order_to_doc(order: Order) -> Doc:
    # The stored names of cum_qty, leaves_qty and canceled_qty are older than the FIX names
    # the code uses; documents keep them, so no stored order needs a migration.
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "account_id": order.account_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "time_in_force": order.time_in_force.value,
        "quantity": order.quantity,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "created_at": order.created_at,
        "expire_at": order.expire_at,
        "status": order.status.value,
        "filled_quantity": order.cum_qty,
        "leaves_quantity": order.leaves_qty,
        "canceled_quantity": order.canceled_qty,
        "filled_notional": order.filled_notional,
        "fees": order.fees,
        "reject_reason": order.reject_reason,
        "updated_at": order.updated_at,
        "seq": order.seq,
        "version": order.version,
        "dispatched": order.dispatched,
        "client_order_id_chain": list(order.client_order_id_chain),
        "pending_command": order.pending_command,
        "held_quantity": order.held_qty,
        "display_quantity": order.display_qty,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "trail_amount": order.trail_amount,
        "trail_cbps": order.trail_cbps,
        "high_water_mark": order.high_water_mark,
        "order_class": order.order_class.value,
        "leg": order.leg,
        "parent_order_id": order.parent_order_id,
    }


def order_from_doc(doc: Doc) -> Order:
    return Order(
        order_id=doc["order_id"],
        client_order_id=doc["client_order_id"],
        account_id=doc["account_id"],
        symbol=doc["symbol"],
        side=Side(doc["side"]),
        type=OrderType(doc["type"]),
        time_in_force=TimeInForce(doc["time_in_force"]),
        quantity=doc["quantity"],
        limit_price=doc["limit_price"],
        stop_price=doc["stop_price"],
        created_at=doc["created_at"],
        expire_at=doc["expire_at"],
        status=OrderStatus(doc["status"]),
        cum_qty=doc["filled_quantity"],
        leaves_qty=doc["leaves_quantity"],
        canceled_qty=doc["canceled_quantity"],
        filled_notional=doc["filled_notional"],
        fees=doc["fees"],
        reject_reason=doc["reject_reason"],
        updated_at=doc["updated_at"],
        seq=doc["seq"],
        version=doc["version"],
        dispatched=bool(doc["dispatched"]),
        client_order_id_chain=list(doc["client_order_id_chain"]),
        # Absent from documents stored by older versions: their defaults are a simple order's.
        pending_command=doc.get("pending_command"),
        held_qty=doc.get("held_quantity", 0),
        display_qty=doc.get("display_quantity", 0),
        post_only=bool(doc.get("post_only", False)),
        reduce_only=bool(doc.get("reduce_only", False)),
        trail_amount=doc.get("trail_amount", 0),
        trail_cbps=doc.get("trail_cbps", 0),
        high_water_mark=doc.get("high_water_mark"),
        order_class=OrderClass(doc.get("order_class", OrderClass.SIMPLE.value)),
        leg=doc.get("leg", ""),
        parent_order_id=doc.get("parent_order_id", ""),
    )


def execution_to_doc(execution: Execution) -> Doc:
    return {
        "execution_id": execution.execution_id,
        "order_id": execution.order_id,
        "account_id": execution.account_id,
        "symbol": execution.symbol,
        "side": execution.side.value,
        "quantity": execution.quantity,
        "price": execution.price,
        "liquidity": execution.liquidity.value,
        "fee": execution.fee,
        "trade_id": execution.trade_id,
        "executed_at": execution.executed_at,
    }


def execution_from_doc(doc: Doc) -> Execution:
    return Execution(
        execution_id=doc["execution_id"],
        order_id=doc["order_id"],
        account_id=doc["account_id"],
        symbol=doc["symbol"],
        side=Side(doc["side"]),
        quantity=doc["quantity"],
        price=doc["price"],
        liquidity=Liquidity(doc["liquidity"]),
        fee=doc["fee"],
        trade_id=doc["trade_id"],
        executed_at=doc["executed_at"],
    )


def account_to_doc(account: Account) -> Doc:
    limits = account.risk_limits
    return {
        "account_id": account.account_id,
        "name": account.name,
        "type": account.type.value,
        "api_key_hash": account.api_key_hash,
        "roles": list(account.roles),
        "risk_limits": {
            "max_order_notional": str(limits.max_order_notional),
            "max_open_orders": limits.max_open_orders,
            "max_daily_orders": limits.max_daily_orders,
            "rate_per_second": limits.rate_per_second,
            "burst": limits.burst,
            "credit_limit": str(limits.credit_limit),
        },
        "trading_state": account.trading_state.value,
        "stp": account.stp.value,
        "created_at": account.created_at,
        "version": account.version,
    }


def account_from_doc(doc: Doc) -> Account:
    limits = doc["risk_limits"]
    return Account(
        account_id=doc["account_id"],
        name=doc["name"],
        type=AccountType(doc["type"]),
        api_key_hash=doc["api_key_hash"],
        roles=tuple(doc["roles"]),
        risk_limits=RiskLimits(
            max_order_notional=Decimal(limits["max_order_notional"]),
            max_open_orders=limits["max_open_orders"],
            max_daily_orders=limits["max_daily_orders"],
            rate_per_second=limits["rate_per_second"],
            burst=limits["burst"],
            credit_limit=Decimal(limits["credit_limit"]),
        ),
        trading_state=TradingState(doc["trading_state"]),
        stp=SelfTradePrevention(doc["stp"]),
        created_at=doc["created_at"],
        version=doc["version"],
    )


def instrument_to_doc(instrument: Instrument) -> Doc:
    return {
        "symbol": instrument.symbol,
        "tick_size": str(instrument.tick_size),
        "lot_size": str(instrument.lot_size),
        "min_quantity": instrument.min_quantity,
        "max_quantity": instrument.max_quantity,
        "price_collar_bps": instrument.price_collar_bps,
        "maker_fee_cbps": instrument.maker_fee_cbps,
        "taker_fee_cbps": instrument.taker_fee_cbps,
        "reference_price": instrument.reference_price,
        "trading_state": instrument.trading_state.value,
        "session": describe(instrument.session),
    }


def instrument_from_doc(doc: Doc) -> Instrument:
    return Instrument(
        symbol=doc["symbol"],
        tick_size=Decimal(doc["tick_size"]),
        lot_size=Decimal(doc["lot_size"]),
        min_quantity=doc["min_quantity"],
        max_quantity=doc["max_quantity"],
        price_collar_bps=doc["price_collar_bps"],
        maker_fee_cbps=doc["maker_fee_cbps"],
        taker_fee_cbps=doc["taker_fee_cbps"],
        reference_price=doc["reference_price"],
        trading_state=TradingState(doc["trading_state"]),
        session=from_description(doc.get("session", ALL_DAY)),  # absent: older documents
    )


POSITION_COUNTERS = (
    "net_quantity",
    "bought_quantity",
    "sold_quantity",
    "bought_notional",
    "sold_notional",
    "fees",
)


def fill_increments(execution: Execution) -> dict[str, int]:
    """How one fill moves the counters of its position."""
    quantity, notional = execution.quantity, execution.quantity * execution.price
    if execution.side is Side.BUY:
        moves = {"net_quantity": quantity, "bought_quantity": quantity, "bought_notional": notional}
    else:
        moves = {"net_quantity": -quantity, "sold_quantity": quantity, "sold_notional": notional}
    return {**dict.fromkeys(POSITION_COUNTERS, 0), **moves, "fees": execution.fee}


def position_from_doc(doc: Doc) -> Position:
    return Position(
        account_id=doc["account_id"],
        symbol=doc["symbol"],
        updated_at=doc["updated_at"],
        **{name: int(doc[name]) for name in POSITION_COUNTERS},
    )


def one_row_per_trade(executions: list[Execution], limit: int) -> list[Execution]:
    """Keep one execution per trade id (the maker's when present), in the given order.
    Executions without a trade id (paper fills on the simulated market) are no trades."""
    chosen: dict[str, Execution] = {}
    for execution in executions:
        if not execution.trade_id:
            continue
        kept = chosen.get(execution.trade_id)
        if kept is None or (
            execution.liquidity is Liquidity.MAKER and kept.liquidity is not Liquidity.MAKER
        ):
            chosen[execution.trade_id] = execution
    return list(chosen.values())[:limit]
