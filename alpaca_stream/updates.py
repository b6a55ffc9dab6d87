"""One account's live feed as Alpaca's trade updates.

`orderUpdated` carries the order's view after each event (`shared.services.views`) and the
event's kind; a fill's `executionReported` follows its `orderUpdated` on the same stream.
So a fill's update (`fill` or `partial_fill`: the order, `price`, `qty`, `position_qty`,
`timestamp`, `execution_id`) is sent when its execution arrives, with the order as that fill
left it. A replace that gave the order a new Alpaca id is `replaced` (the old id, now
`replaced`, with `replaced_by`) then `new` (the order under its new id); a replace in place
through the native API (same id) is `restated`. Client requests (pending cancel or replace)
are not events of the feed, so Alpaca's `pending_*` updates are not sent. A contingent
group's exit is accepted `held` (no update: nothing of it is live) and reported `new` when
its entry's first fill releases it; an OCO sibling canceled by the other's fill is
`canceled`. A trailing stop's moves are not updates (its order shows them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.alpaca.ids import execution_uuid
from shared.alpaca.orders import AlpacaOrder, alpaca_order, replaced_generation
from shared.alpaca.symbols import AlpacaName
from shared.feeds.streams import EXECUTION_REPORTED, ORDER_UPDATED

Update = dict[str, object]

_ENDED = {"filled", "canceled", "expired", "rejected"}
_EVENTS = {
    "order_accepted": "new",
    "order_rejected": "rejected",
    "order_canceled": "canceled",
    "order_expired": "expired",
    "cancel_rejected": "order_cancel_rejected",
    "replace_rejected": "order_replace_rejected",
    "order_restated": "restated",
}


def _carried(view: Mapping[str, Any]) -> int:
    return len(view.get("previous_client_order_ids") or ())


def _update(event: str, view: Mapping[str, Any], order: Mapping[str, object]) -> Update:
    return {"event": event, "order": dict(order), "timestamp": view["updated_at"]}


class TradeUpdates:
    """Turns one account's feed messages into Alpaca's trade updates, in order; `names`
    gives Alpaca's names of an instrument by the OMS's symbol."""

    def __init__(self, names: Callable[[str], AlpacaName]) -> None:
        self._names = names
        self._filled: dict[str, Mapping[str, Any]] = {}  # order id -> view after its fill
        self._last: dict[str, Mapping[str, Any]] = {}  # open order id -> its latest view

    def _order(self, view: Mapping[str, Any], *generation: Any) -> AlpacaOrder:
        return alpaca_order(view, self._names(str(view["symbol"])), *generation)

    def translate(self, target: str, data: Mapping[str, Any]) -> list[Update]:
        if target == EXECUTION_REPORTED:
            return self._fill(data)
        if target != ORDER_UPDATED or "status" not in data:
            return []  # e.g. an answer about an order nobody holds: nothing to render
        event = str(data.get("event", ""))
        order_id = str(data["order_id"])
        earlier = self._last.get(order_id)
        self._last[order_id] = data
        if data["status"] in _ENDED:
            del self._last[order_id]  # nothing follows an ended order
        if event == "order_filled":
            self._filled[order_id] = data
            return []
        if event == "order_replaced":
            before = replaced_generation(data)
            # A new client order id (always, through /v2) is a new Alpaca order; the same one
            # (a replace in place through /api) keeps the id.
            carried = len(data.get("previous_client_order_ids") or ())
            if before is None or (earlier is not None and _carried(earlier) == carried):
                return [_update("restated", data, self._order(data))]
            # The replaced order as this connection last saw it (its old quantity and prices).
            old = self._order(earlier if earlier is not None else data, before)
            old["replaced_at"] = data["updated_at"]
            return [_update("replaced", data, old), _update("new", data, self._order(data))]
        if event == "order_accepted" and data["status"] == "held":
            return []  # a group's exit waiting for its entry: nothing live yet
        released = event == "order_restated" and data.get("event_reason") == "LEG_RELEASED"
        if released and (earlier is None or earlier.get("status") == "held"):
            return [_update("new", data, self._order(data))]  # the exit is live now
        name = _EVENTS.get(event)
        return [] if name is None else [_update(name, data, self._order(data))]

    def _fill(self, execution: Mapping[str, Any]) -> list[Update]:
        view = self._filled.pop(str(execution.get("order_id")), None)
        if view is None:
            return []  # its order update was lost on the way: the gap shows in the feed
        order = self._order(view)
        update: Update = {
            "event": "fill" if view["status"] == "filled" else "partial_fill",
            "execution_id": execution_uuid(str(execution["execution_id"])),
            "order": order,
            "timestamp": execution["executed_at"],
            "price": execution["price"],
            "qty": execution["quantity"],
        }
        if "position_quantity" in execution:
            update["position_qty"] = execution["position_quantity"]
        return [update]
