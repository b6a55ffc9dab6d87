"""Alpaca's account activities: the account's fills (`FILL`), from its executions.

An activity id is Alpaca's `<yyyymmddhhmmssmmm>::<uuid>`: when the fill happened (to the
millisecond, UTC) and the execution's Alpaca id, so a page token (the last id of a page)
leads back to its execution.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.alpaca.ids import account_uuid, execution_uuid
from shared.alpaca.symbols import alpaca_name
from shared.domain.instrument import Instrument
from shared.ports.store_executions import Execution
from shared.services.views import ns_to_rfc3339


def activity_id(execution: Execution) -> str:
    ms = execution.executed_at // 1_000_000
    stamp = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y%m%d%H%M%S")
    return f"{stamp}{ms % 1000:03d}::{execution_uuid(execution.execution_id)}"


def activity_time(activity: str) -> tuple[int, str] | None:
    """(the first ns of its millisecond, the execution's Alpaca id) of an activity id."""
    stamp, _, alpaca_id = activity.partition("::")
    if len(stamp) != 17 or not stamp.isdigit() or not alpaca_id:
        return None
    try:
        moment = datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    ms = int(moment.timestamp()) * 1000 + int(stamp[14:])
    return ms * 1_000_000, alpaca_id


def fill_activity(
    execution: Execution,
    instrument: Instrument,
    order_alpaca_id: str,
    order_quantity: int,
    cum_qty: int,
) -> dict[str, object]:
    """One fill as Alpaca's trade activity; `cum_qty` = the order's filled lots with it."""
    full = cum_qty >= order_quantity
    return {
        "id": activity_id(execution),
        "account_id": account_uuid(execution.account_id),
        "activity_type": "FILL",
        "transaction_time": ns_to_rfc3339(execution.executed_at),
        "type": "fill" if full else "partial_fill",
        "price": instrument.price_str(execution.price),
        "qty": instrument.quantity_str(execution.quantity),
        "side": execution.side.value,
        "symbol": alpaca_name(instrument).symbol,
        "leaves_qty": instrument.quantity_str(max(0, order_quantity - cum_qty)),
        "order_id": order_alpaca_id,
        "cum_qty": instrument.quantity_str(cum_qty),
        "order_status": "filled" if full else "partially_filled",
    }
