"""Plain-dict forms of the stored records, shared by the adapters.

Every value is a str, int, bool, None, list or dict, so the same dict is a JSON column in
SQLite and a BSON document in MongoDB. Decimals travel as strings, enums as their values.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from shared.domain.enums import (
    AccountType,
    AssetClass,
    Liquidity,
    OrderClass,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingState,
)
from shared.domain.instrument import Instrument, ReferenceSource
from shared.domain.order import Order
from shared.domain.paper_settings import SimulatorSettings
from shared.domain.positions import Fill, Position
from shared.domain.sessions import ALL_DAY, describe, from_description
from shared.domain.shadow import ShadowRecord
from shared.ports.store_accounts import Account, RiskLimits
from shared.ports.store_executions import Execution
from shared.ports.store_risk import RiskLedger

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
        "reserved": str(order.reserved),
        "event_seqs": list(order.event_seqs),
        "accepted_at": order.accepted_at,
        "first_fill_at": order.first_fill_at,
        "completed_at": order.completed_at,
        "arrival_half_ticks": order.arrival_half_ticks,
        **({} if order.simulator is None else {"simulator": order.simulator.to_doc()}),
        **({} if order.shadow is None else {"shadow": order.shadow.to_doc()}),
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
        "venue": order.venue,
        "reject_text": order.reject_text,
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
        event_seqs=list(doc.get("event_seqs") or ()),
        accepted_at=doc.get("accepted_at", 0),
        first_fill_at=doc.get("first_fill_at", 0),
        completed_at=doc.get("completed_at", 0),
        arrival_half_ticks=doc.get("arrival_half_ticks", 0),  # older orders: not known
        shadow=None if doc.get("shadow") is None else ShadowRecord.from_doc(doc["shadow"]),
        simulator=None
        if doc.get("simulator") is None
        else SimulatorSettings.from_doc(doc["simulator"]),
        reserved=Decimal(doc.get("reserved", "0")),  # older orders hold no credit
        venue=doc.get("venue", ""),
        reject_text=doc.get("reject_text", ""),
    )


def risk_ledger_to_doc(ledger: RiskLedger) -> Doc:
    return {
        "account_id": ledger.account_id,
        "open_orders": ledger.open_orders,
        "open_notional": str(ledger.open_notional),
        "day": ledger.day,
        "day_orders": ledger.day_orders,
        "rate_tokens": ledger.rate_tokens,
        "rate_at": ledger.rate_at,
        "version": ledger.version,
        "open_symbols": dict(ledger.open_symbols),
    }


def risk_ledger_from_doc(doc: Doc) -> RiskLedger:
    return RiskLedger(
        account_id=doc["account_id"],
        open_orders=doc["open_orders"],
        open_notional=Decimal(doc["open_notional"]),
        day=doc["day"],
        day_orders=doc["day_orders"],
        rate_tokens=float(doc["rate_tokens"]),
        rate_at=doc["rate_at"],
        version=doc["version"],
        # absent in ledgers of older versions: their open orders count on no instrument
        open_symbols=dict(doc.get("open_symbols") or {}),
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
        "settle_day": execution.settle_day,
        "settled_at": execution.settled_at,
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
        settle_day=doc.get("settle_day", 0),  # absent in documents of older versions
        settled_at=doc.get("settled_at", 0),
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
        "venue": account.venue,
        "currency": account.currency,
        "starting_cash": str(account.starting_cash),
        **({} if account.simulator.is_default else {"simulator": account.simulator.to_doc()}),
        **({"shadow": True} if account.shadow else {}),
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
        venue=doc.get("venue"),
        currency=doc.get("currency", "USD"),  # absent in documents of older versions
        starting_cash=Decimal(doc.get("starting_cash", "0")),
        simulator=SimulatorSettings.from_doc(doc.get("simulator")),
        shadow=bool(doc.get("shadow", False)),
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
        "venue": instrument.venue,
        "version": instrument.version,
        "state_pending": instrument.state_pending,
        "asset_class": instrument.asset_class.value,
        "settlement_days": instrument.settlement_days,
        "currency": instrument.currency,
        **(
            {}
            if instrument.reference_source == ReferenceSource()
            else {"reference_source": asdict(instrument.reference_source)}
        ),
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
        venue=doc.get("venue"),
        version=doc.get("version", 0),  # stored before instruments had versions: 0
        state_pending=doc.get("state_pending", False),
        # absent in documents of older versions
        asset_class=AssetClass(doc.get("asset_class", AssetClass.EQUITY.value)),
        settlement_days=doc.get("settlement_days", 1),
        currency=doc.get("currency", "USD"),
        reference_source=ReferenceSource(**doc.get("reference_source", {})),
        session=from_description(doc.get("session", ALL_DAY)),  # absent: older documents
    )


POSITION_COUNTERS = (
    "net_quantity",
    "bought_quantity",
    "sold_quantity",
    "bought_notional",
    "sold_notional",
    "fees",
    "cost",
    "realized",
    "day",
    "day_start_quantity",
    "day_flow",
    "day_fees",
)
"""The integer fields of a position (besides `updated_at` and the `unsettled` buckets)."""


def position_to_doc(position: Position) -> Doc:
    return {
        "account_id": position.account_id,
        "symbol": position.symbol,
        **{name: getattr(position, name) for name in POSITION_COUNTERS},
        "updated_at": position.updated_at,
        "unsettled": [list(bucket) for bucket in position.unsettled],
    }


def position_from_doc(doc: Doc) -> Position:
    """A position. A document of an older version has no cost basis: it is taken at the
    average price of the side held (the fills alone cannot tell more after the fact), and
    realized P&L follows from it (sold - bought notional + cost); its other new fields
    read as 0."""
    counters = {name: int(doc.get(name) or 0) for name in POSITION_COUNTERS}
    if "cost" not in doc:
        net = counters["net_quantity"]
        side = "bought" if net > 0 else "sold"
        held = counters[f"{side}_quantity"]
        magnitude = abs(net) * counters[f"{side}_notional"] // held if net and held else 0
        cost = magnitude if net > 0 else -magnitude  # truncated toward zero, as SQLite's
        realized = counters["sold_notional"] - counters["bought_notional"] + cost
        counters.update(cost=cost, realized=realized)
    return Position(
        account_id=doc["account_id"],
        symbol=doc["symbol"],
        updated_at=doc["updated_at"],
        unsettled=tuple((int(d), int(f), int(c)) for d, f, c in doc.get("unsettled") or ()),
        **counters,
    )


def fill_of(execution: Execution) -> Fill:
    """What an execution does to its position."""
    return Fill(
        execution.side is Side.BUY,
        execution.quantity,
        execution.price,
        execution.fee,
        execution.executed_at,
        execution.settle_day,
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
