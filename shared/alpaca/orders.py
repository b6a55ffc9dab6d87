"""Alpaca's order object, made from the OMS's order view (`shared.services.views.order_view`,
also what the live feed pushes), so the REST routes and the stream render orders alike.

Decimals stay the view's exact strings. The OMS's time in force `gtd` is Alpaca's `gtc` with
`expires_at`. Every status is one Alpaca knows (the OMS's are a subset of Alpaca's, `held`
for a contingent group's exit waiting for its entry included). A trailing stop shows its
trail (`trail_price`: the OMS's `trail_amount`, or `trail_percent`), its current
`stop_price` and its high-water mark (`hwm`). A group's head (a bracket's or OTO's entry, an
OCO's take-profit) shows its other orders in `legs` when the view nests them.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.alpaca.generations import Generation, Role, generation_in
from shared.alpaca.ids import asset_uuid
from shared.alpaca.symbols import AlpacaName

AlpacaOrder = dict[str, object]

# When the order reached each final status: Alpaca's field for it.
_ENDED_AT = {
    "filled": "filled_at",
    "canceled": "canceled_at",
    "expired": "expired_at",
    "rejected": "failed_at",
}


def carried(view: Mapping[str, object]) -> list[str]:
    """Every client order id the viewed order has carried, oldest first."""
    earlier = view.get("previous_client_order_ids") or []
    assert isinstance(earlier, list)
    return [*(str(c) for c in earlier), str(view["client_order_id"])]


def current_generation(view: Mapping[str, object]) -> Generation:
    """The Alpaca order a view of the order as it is now stands for."""
    ids = carried(view)
    return generation_in(str(view["order_id"]), ids, ids[-1])


def replaced_generation(view: Mapping[str, object]) -> Generation | None:
    """The Alpaca order the order's last replace replaced (None before any)."""
    ids = carried(view)
    return generation_in(str(view["order_id"]), ids, ids[-2]) if len(ids) > 1 else None


def alpaca_order(
    view: Mapping[str, object],
    name: AlpacaName,
    generation: Generation | None = None,
    asked: Mapping[str, str | None] | None = None,
) -> AlpacaOrder:
    """The Alpaca order for `generation` of the viewed order (default: its current one), its
    instrument named `name`. `asked`: the quantity and prices a replace not answered yet
    asks for (the new order's)."""
    gen = generation or current_generation(view)
    symbol = str(view["symbol"])
    status = str(view["status"])
    updated_at = view["updated_at"]
    filled_qty: object = view["filled_quantity"]
    average: object = view["average_fill_price"]
    qty: object = view["quantity"]
    limit_price = view["limit_price"]
    stop_price = view["stop_price"]
    if gen.role is Role.REPLACED:
        # One OMS order keeps its fills through a replace: the replacing order shows them.
        status, filled_qty, average = "replaced", "0", None
    elif gen.role is Role.REPLACING:
        status, filled_qty, average = "pending_new", "0", None
        if asked:
            qty = asked.get("qty") or qty
            limit_price = asked.get("limit_price") or limit_price
            stop_price = asked.get("stop_price") or stop_price
    elif gen.role is Role.REFUSED:
        status, filled_qty, average = "rejected", "0", None
    time_in_force = str(view["time_in_force"])
    expires_at = view.get("expire_at")
    legs = view.get("legs")
    nested = None
    if isinstance(legs, list):
        nested = [alpaca_order(leg, name) for leg in legs]
    order: AlpacaOrder = {
        "id": gen.alpaca_id,
        "client_order_id": gen.client_order_id,
        "created_at": view["created_at"],
        "updated_at": updated_at,
        "submitted_at": view["created_at"],
        "filled_at": None,
        "expired_at": None,
        "expires_at": expires_at if time_in_force == "gtd" else None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": gen.replaced_by,
        "replaces": gen.replaces,
        "asset_id": asset_uuid(symbol),
        "symbol": name.symbol,
        "asset_class": name.asset_class,
        "notional": None,
        "qty": qty,
        "filled_qty": filled_qty,
        "filled_avg_price": average,
        "order_class": view.get("order_class") or "simple",
        "order_type": view["type"],
        "type": view["type"],
        "side": view["side"],
        "position_intent": None,
        "time_in_force": "gtc" if time_in_force == "gtd" else time_in_force,
        "limit_price": limit_price,
        "stop_price": stop_price,
        "status": status,
        "extended_hours": False,
        "legs": nested,
        "trail_percent": view.get("trail_percent"),
        "trail_price": view.get("trail_amount"),
        "hwm": view.get("high_water_mark"),
        "ratio_qty": None,
        "subtag": None,
        "source": None,
    }
    ended = _ENDED_AT.get(status)
    if ended is not None:
        order[ended] = updated_at
    return order
