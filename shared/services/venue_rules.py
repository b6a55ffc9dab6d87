"""The venues' own rules (shared.domain.order_rules) run at intake on the very commands the
matcher will get, so the intake never acknowledges an order its venue must reject for what
the order is (only for what happens meanwhile: a halt, the book, the position). The intake's
own checks come first and name the field as the client wrote it; this names the field of
whatever they let through."""

from __future__ import annotations

from shared.domain import order_rules, reasons
from shared.domain.commands import NewOrder, NewOrderGroup
from shared.domain.enums import Leg, OrderClass
from shared.domain.order import Order
from shared.ports.store_accounts import Account
from shared.services.dispatch import creation_command
from shared.services.errors import InvalidRequest

# The request field a reason is about, on the order that has it.
_FIELDS = {
    reasons.INVALID_QUANTITY: "quantity",
    reasons.MISSING_LIMIT_PRICE: "limit_price",
    reasons.MISSING_STOP_PRICE: "stop_price",
    reasons.INVALID_TRAIL: "trail_amount",
    reasons.INVALID_DISPLAY_QUANTITY: "display_quantity",
    reasons.POST_ONLY_NOT_LIMIT: "post_only",
    reasons.INVALID_TIME_IN_FORCE: "time_in_force",
    reasons.TIME_IN_FORCE_NOT_SUPPORTED: "time_in_force",
    reasons.MISSING_EXPIRE_TIME: "expire_at",
    reasons.EXPIRE_TIME_IN_PAST: "expire_at",
    reasons.INVALID_ORDER_CLASS: "order_class",
    reasons.INVALID_ORDER_TYPE: "type",
    reasons.INVALID_SIDE: "side",
}
# Fields an exit takes from the top level of the request (the others are its own).
_INHERITED = frozenset({"quantity", "time_in_force", "expire_at", "order_class"})
_EXITS = (Leg.TAKE_PROFIT.value, Leg.STOP_LOSS.value)


def check(account: Account, orders: list[Order]) -> None:
    """InvalidRequest when a venue would reject the orders (a group as a whole)."""
    command = creation_command(account, orders)
    index, reason = -1, ""
    if isinstance(command, NewOrder):
        index, reason = 0, order_rules.new_order_problem(command, False, False)
    else:
        assert isinstance(command, NewOrderGroup)
        for i, new_order in enumerate(command.orders):
            problem = order_rules.new_order_problem(new_order, False, False, in_group=True)
            if problem:
                index, reason = i, problem
                break
        else:
            index, reason = order_rules.group_problem(command)
    if reason:
        at_fault = orders[index]
        detail = f"the venue would reject the {at_fault.leg or 'order'}: {reason}"
        raise InvalidRequest(reason, detail, field_of(reason, at_fault))


def field_of(reason: str, order: Order) -> str | None:
    """The request field that gave `order` what `reason` is about."""
    exit_leg = order.leg in _EXITS
    oco_head = order.order_class is OrderClass.OCO and order.leg == Leg.TAKE_PROFIT.value
    if reason == reasons.INVALID_BRACKET_PRICES:
        if not exit_leg:
            return "limit_price" if order.limit_price is not None else "stop_price"
        name = "limit_price" if order.leg == Leg.TAKE_PROFIT.value else "stop_price"
        return f"{order.leg}.{name}"
    if reason == reasons.INVALID_LEG:
        return order.leg if exit_leg and not oco_head else "order_class"
    field = _FIELDS.get(reason)
    if field is None or not exit_leg or field in _INHERITED:
        return field
    if oco_head and field != "limit_price":
        return field  # an OCO's take-profit is the request's top level, but for its price
    return f"{order.leg}.{field}"
