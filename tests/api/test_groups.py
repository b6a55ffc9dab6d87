"""Contingent groups at intake (bracket, OTO, OCO in Alpaca's shape): placed, stored and sent
to the matcher as a whole, shown with their legs; every refusal names its field (as
`take_profit.limit_price`) and leaves nothing behind."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shared.domain.commands import CancelAll, NewOrder, NewOrderGroup
from shared.domain.events import OrderAccepted
from shared.messages import EventBatch
from shared.services import sweep
from shared.services.projector import project_batch
from tests.api.test_order_instructions import recorded
from tests.support.oms import Client, Oms, Transport, bus_down

BRACKET: dict[str, Any] = {
    "symbol": "ABC",
    "side": "buy",
    "type": "limit",
    "quantity": "10",
    "limit_price": "100",
    "time_in_force": "gtc",
    "order_class": "bracket",
    "client_order_id": "b1",
    "take_profit": {"limit_price": "105"},
    "stop_loss": {"stop_price": "97"},
}
OCO: dict[str, Any] = {
    "symbol": "ABC",
    "side": "sell",
    "type": "limit",
    "quantity": "10",
    "time_in_force": "gtc",
    "order_class": "oco",
    "client_order_id": "x1",
    "take_profit": {"limit_price": "105"},
    "stop_loss": {"stop_price": "95", "limit_price": "94.5"},
}


async def trader(oms: Oms, transport: Transport, **limits: Any) -> Client:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("trader", **limits)
    return Client(transport, key)


async def test_a_bracket_is_placed_whole_with_its_legs_held(oms: Oms, transport: Transport) -> None:
    client = await trader(oms, transport)
    with recorded(oms) as sent:
        reply = await client.place(**BRACKET)

    assert reply.status == 202, reply.body
    entry = reply.json()
    assert (entry["order_class"], entry["leg"], entry["parent_order_id"]) == (
        "bracket",
        "entry",
        None,
    )
    take_profit, stop_loss = entry["legs"]
    assert [
        (leg["leg"], leg["side"], leg["type"], leg["client_order_id"], leg["parent_order_id"])
        for leg in entry["legs"]
    ] == [
        ("take_profit", "sell", "limit", "b1-tp", entry["order_id"]),
        ("stop_loss", "sell", "stop", "b1-sl", entry["order_id"]),
    ]
    assert (take_profit["limit_price"], stop_loss["stop_price"]) == ("105", "97")
    for leg in entry["legs"]:
        assert (leg["quantity"], leg["leaves_quantity"], leg["held_quantity"]) == ("10", "0", "10")
        assert (leg["time_in_force"], leg["status"], leg["legs"]) == ("gtc", "pending_new", None)
    assert (entry["leaves_quantity"], entry["held_quantity"]) == ("10", "0")

    # One command to the matcher: the whole group, each order with its own command id.
    assert len(sent) == 1
    group = sent[0]
    assert isinstance(group, NewOrderGroup)
    assert group.order_class == "bracket"
    assert [(o.order_id, o.leg, o.parent_order_id) for o in group.orders] == [
        (entry["order_id"], "entry", ""),
        (take_profit["order_id"], "take_profit", entry["order_id"]),
        (stop_loss["order_id"], "stop_loss", entry["order_id"]),
    ]
    assert [o.command_id for o in group.orders] == [f"{group.command_id}.{n}" for n in (1, 2, 3)]

    got = (await client.call("GET", f"/api/orders/{entry['order_id']}")).json()
    assert [leg["order_id"] for leg in got["legs"]] == [
        take_profit["order_id"],
        stop_loss["order_id"],
    ]
    by_client = (await client.call("GET", "/api/orders/by-client-id/b1-sl")).json()
    assert (by_client["order_id"], by_client["legs"]) == (stop_loss["order_id"], None)
    flat = (await client.call("GET", "/api/orders")).json()["items"]
    assert len(flat) == 3 and all(item["legs"] is None for item in flat)
    nested = (await client.call("GET", "/api/orders", params={"nested": "true"})).json()["items"]
    assert [(o["order_id"], len(o["legs"])) for o in nested] == [(entry["order_id"], 2)]
    one = await client.call("GET", "/api/orders", params={"nested": "true", "limit": 1})
    assert [o["order_id"] for o in one.json()["items"]] == [entry["order_id"]]
    assert one.json()["next_cursor"] is None


async def test_an_oco_is_two_live_exits_headed_by_its_take_profit(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    with recorded(oms) as sent:
        reply = await client.place(**OCO)

    assert reply.status == 202, reply.body
    head = reply.json()
    (stop,) = head["legs"]
    assert (head["leg"], head["type"], head["side"], head["limit_price"]) == (
        "take_profit",
        "limit",
        "sell",
        "105",
    )
    assert (stop["leg"], stop["type"], stop["side"], stop["stop_price"], stop["limit_price"]) == (
        "stop_loss",
        "stop_limit",
        "sell",
        "95",
        "94.5",
    )
    assert (stop["leaves_quantity"], stop["held_quantity"], stop["client_order_id"]) == (
        "10",
        "0",
        "x1-sl",
    )
    group = sent[0]
    assert isinstance(group, NewOrderGroup)
    assert [(o.leg, o.parent_order_id) for o in group.orders] == [
        ("take_profit", ""),
        ("stop_loss", head["order_id"]),
    ]


async def test_an_oto_with_a_trailing_stop_loss_protects_an_immediate_entry(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    reply = await client.place(
        symbol="ABC",
        side="buy",
        type="market",
        quantity="5",
        time_in_force="ioc",
        order_class="oto",
        stop_loss={"trail_percent": "2.5", "client_order_id": "my-stop"},
    )

    assert reply.status == 202, reply.body
    (stop,) = reply.json()["legs"]
    assert (stop["type"], stop["trail_percent"], stop["time_in_force"]) == (
        "trailing_stop",
        "2.5",
        "gtc",
    )
    assert stop["client_order_id"] == "my-stop"


def _bracket(**changes: Any) -> dict[str, Any]:
    return {k: v for k, v in {**BRACKET, **changes}.items() if v is not None}


REFUSALS: list[tuple[dict[str, Any], int, str, str]] = [
    (_bracket(stop_loss=None), 422, "INVALID_LEG", "stop_loss"),
    (_bracket(order_class="oto"), 422, "INVALID_LEG", "stop_loss"),
    (
        _bracket(order_class="oto", take_profit=None, stop_loss=None),
        422,
        "INVALID_LEG",
        "take_profit",
    ),
    (
        _bracket(take_profit={"limit_price": "96"}),
        422,
        "INVALID_BRACKET_PRICES",
        "take_profit.limit_price",
    ),
    (
        _bracket(take_profit={"limit_price": "99"}),
        422,
        "INVALID_BRACKET_PRICES",
        "take_profit.limit_price",
    ),
    (
        _bracket(side="sell", take_profit={"limit_price": "103"}, stop_loss={"stop_price": "101"}),
        422,
        "INVALID_BRACKET_PRICES",
        "take_profit.limit_price",
    ),
    (
        _bracket(take_profit={"limit_price": "105.001"}),
        422,
        "PRICE_OFF_TICK",
        "take_profit.limit_price",
    ),
    (_bracket(take_profit={}), 422, "MISSING_FIELD", "take_profit.limit_price"),
    (_bracket(take_profit={"limit_price": "105", "x": 1}), 422, "UNKNOWN_FIELD", "take_profit.x"),
    (_bracket(stop_loss={}), 422, "MISSING_STOP_PRICE", "stop_loss.stop_price"),
    (
        _bracket(stop_loss={"stop_price": "97", "trail_amount": "1"}),
        422,
        "INVALID_TRAIL",
        "stop_loss.stop_price",
    ),
    (
        _bracket(stop_loss={"trail_amount": "1", "limit_price": "96"}),
        422,
        "UNEXPECTED_PRICE",
        "stop_loss.limit_price",
    ),
    (
        _bracket(stop_loss={"trail_percent": "0.00001"}),
        422,
        "INVALID_TRAIL",
        "stop_loss.trail_percent",
    ),
    (
        _bracket(type="trailing_stop", limit_price=None, trail_amount="1"),
        422,
        "INVALID_ORDER_CLASS",
        "type",
    ),
    (
        _bracket(type="stop", limit_price=None, stop_price="101", time_in_force="ioc"),
        422,
        "INVALID_TIME_IN_FORCE",
        "time_in_force",
    ),
    (_bracket(reduce_only=True), 422, "REDUCE_ONLY_IN_GROUP", "reduce_only"),
    (_bracket(client_order_id="c" * 62), 422, "CLIENT_ORDER_ID_TOO_LONG", "client_order_id"),
    (
        _bracket(take_profit={"limit_price": "105", "client_order_id": "b1"}),
        409,
        "DUPLICATE_CLIENT_ORDER_ID",
        "take_profit.client_order_id",
    ),
    ({**OCO, "type": "market"}, 422, "INVALID_ORDER_CLASS", "type"),
    ({**OCO, "limit_price": "105"}, 422, "UNEXPECTED_PRICE", "limit_price"),
    ({**OCO, "time_in_force": "ioc"}, 422, "INVALID_TIME_IN_FORCE", "time_in_force"),
    (
        {**OCO, "stop_loss": {"stop_price": "106"}},
        422,
        "INVALID_BRACKET_PRICES",
        "take_profit.limit_price",
    ),
    (
        {**OCO, "take_profit": {"limit_price": "105", "client_order_id": "t"}},
        422,
        "INVALID_LEG",
        "take_profit.client_order_id",
    ),
    ({**OCO, "order_class": "triangle"}, 422, "INVALID_VALUE", "order_class"),
    ({**OCO, "post_only": True}, 422, "INVALID_LEG", "post_only"),
    # What the venue's own rules (order_rules.group_problem) refuse, named at intake too:
    (
        _bracket(stop_loss={"stop_price": "101"}),
        422,
        "INVALID_BRACKET_PRICES",
        "stop_loss.stop_price",
    ),
]


@pytest.mark.parametrize(("body", "status", "reason", "field"), REFUSALS)
async def test_a_refused_group_names_the_field_and_stores_none_of_its_orders(
    oms: Oms,
    functions_transport: Transport,
    body: dict[str, Any],
    status: int,
    reason: str,
    field: str,
) -> None:
    client = await trader(oms, functions_transport)

    reply = await client.place(**body)

    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert (reply.json()["reason"], reply.json()["field"]) == (reason, field)
    assert (await client.call("GET", "/api/orders")).json()["items"] == []


async def test_a_group_whose_legs_client_order_id_is_taken_stores_nothing(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    first = await client.place(
        symbol="ABC",
        side="buy",
        type="limit",
        quantity="1",
        limit_price="99",
        client_order_id="b1-tp",
    )
    assert first.status == 202

    reply = await client.place(**BRACKET)

    assert (reply.status, reply.json()["reason"], reply.json()["field"]) == (
        409,
        "DUPLICATE_CLIENT_ORDER_ID",
        "client_order_id",
    )
    items = (await client.call("GET", "/api/orders")).json()["items"]
    assert [o["client_order_id"] for o in items] == ["b1-tp"]
    # The entry's own client order id was not kept: a corrected group may use it.
    fixed = await client.place(
        **_bracket(take_profit={"limit_price": "105", "client_order_id": "t"})
    )
    assert fixed.status == 202, fixed.body


async def test_a_groups_risk_counts_its_entry_and_each_of_its_orders(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport, credit_limit=Decimal(1_000), max_open_orders=4)
    # 10 x 99 = 990 within the credit limit: the exits (10 x 105 would not be) add none.
    accepted = await client.place(**_bracket(limit_price="99"))
    assert accepted.status == 202, accepted.body

    second = await client.place(**_bracket(limit_price="99", client_order_id="b2", quantity="1"))

    assert (second.json()["reason"], second.status) == ("MAX_OPEN_ORDERS_EXCEEDED", 422)


async def test_a_retried_group_gets_the_same_orders_and_another_group_is_a_conflict(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    key = {"Idempotency-Key": "group-1"}
    first = await client.place(**BRACKET, headers=key)
    again = await client.place(**BRACKET, headers=key)
    other = await client.place(**_bracket(take_profit={"limit_price": "106"}), headers=key)

    assert (first.status, again.status) == (202, 202)
    assert again.json() == first.json()
    assert (other.status, other.json()["reason"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert len((await client.call("GET", "/api/orders")).json()["items"]) == 3


async def test_a_group_the_bus_missed_is_sent_whole_by_the_sweep(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    with bus_down(oms.container.bus):
        reply = await client.place(**BRACKET)
    assert reply.status == 202
    oms.clock.advance(10)

    with recorded(oms) as sent:
        report = await sweep.sweep_outbox(oms.container)

    assert report.dispatched == 3
    assert [type(c) for c in sent] == [NewOrderGroup]
    assert [o.order_id for o in sent[0].orders] == [  # type: ignore[attr-defined]
        reply.json()["order_id"],
        *(leg["order_id"] for leg in reply.json()["legs"]),
    ]
    with recorded(oms) as later:
        oms.clock.advance(10)
        await sweep.sweep_outbox(oms.container)
    assert later == [sent[0]]  # still pending (no matcher here): resent once, not per order


async def test_a_legs_quantity_follows_its_entry_and_its_price_may_change(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    entry = (await client.place(**BRACKET)).json()
    take_profit = entry["legs"][0]["order_id"]

    quantity = await client.call("PATCH", f"/api/orders/{take_profit}", json={"quantity": "5"})
    price = await client.call("PATCH", f"/api/orders/{take_profit}", json={"limit_price": "106"})
    whole = await client.call("PATCH", f"/api/orders/{entry['order_id']}", json={"quantity": "5"})

    assert (quantity.status, quantity.json()["reason"], quantity.json()["field"]) == (
        422,
        "LEG_QUANTITY_FOLLOWS_ENTRY",
        "quantity",
    )
    assert (price.status, whole.status) == (202, 202)


async def test_cancel_all_includes_the_legs_still_held(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    entry = (await client.place(**BRACKET)).json()
    account = entry["account_id"]
    ids = [entry["order_id"], *(leg["order_id"] for leg in entry["legs"])]
    accepted = [
        OrderAccepted("ABC", 1, 1, ids[0], account, 1, "new", "buy", "limit", 10, 10_000, 0),
        OrderAccepted(
            "ABC", 2, 1, ids[1], account, 1, "held", "sell", "limit", 10, 10_500, 0, 0, 10
        ),
        OrderAccepted("ABC", 3, 1, ids[2], account, 1, "held", "sell", "stop", 10, 0, 9_700, 0, 10),
    ]
    await project_batch(oms.container, EventBatch("ABC", "c1", 1, 3, tuple(accepted)))
    held = (await client.call("GET", f"/api/orders/{ids[1]}")).json()
    assert (held["status"], held["leaves_quantity"], held["held_quantity"]) == ("held", "0", "10")
    assert (await client.call("GET", "/api/orders", params={"status": "held"})).json()["items"]

    with recorded(oms) as sent:
        canceled = await client.call("DELETE", "/api/orders", params={"symbol": "ABC"})

    assert canceled.status == 202
    assert sorted(o["order_id"] for o in canceled.json()["items"]) == sorted(ids)
    assert {o["status"] for o in canceled.json()["items"]} == {"pending_cancel"}
    assert [type(c) for c in sent] == [CancelAll]


async def test_a_simple_order_still_goes_as_one_new_order(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    with recorded(oms) as sent:
        reply = await client.place(
            symbol="ABC", side="buy", type="limit", quantity="1", limit_price="99"
        )
    assert reply.status == 202
    assert [type(c) for c in sent] == [NewOrder]


async def test_a_replaced_exit_price_keeps_the_brackets_prices_in_order(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    entry = (await client.place(**BRACKET)).json()  # buy at 100, take-profit 105, stop 97
    take_profit, stop_loss = (leg["order_id"] for leg in entry["legs"])

    replies = [
        await client.call("PATCH", f"/api/orders/{stop_loss}", json={"stop_price": "200"}),
        await client.call("PATCH", f"/api/orders/{stop_loss}", json={"stop_price": "100"}),
        await client.call("PATCH", f"/api/orders/{take_profit}", json={"limit_price": "99"}),
        await client.call("PATCH", f"/api/orders/{entry['order_id']}", json={"limit_price": "106"}),
    ]
    assert [(r.status, r.json()["reason"], r.json()["field"]) for r in replies] == [
        (422, "INVALID_BRACKET_PRICES", "stop_price"),
        (422, "INVALID_BRACKET_PRICES", "stop_price"),
        (422, "INVALID_BRACKET_PRICES", "limit_price"),
        (422, "INVALID_BRACKET_PRICES", "limit_price"),
    ]
    moved = await client.call("PATCH", f"/api/orders/{stop_loss}", json={"stop_price": "98"})
    assert moved.status == 202, moved.body


async def test_a_replaced_oco_take_profit_stays_above_its_stop(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    head = (await client.place(**OCO)).json()  # sell: take-profit 105, stop 95

    stop_loss = head["legs"][0]["order_id"]

    below = await client.call(
        "PATCH", f"/api/orders/{head['order_id']}", json={"limit_price": "94"}
    )
    above = await client.call(
        "PATCH", f"/api/orders/{stop_loss}", json={"stop_price": "106", "limit_price": "105.5"}
    )

    assert [(r.status, r.json()["reason"], r.json()["field"]) for r in (below, above)] == [
        (422, "INVALID_BRACKET_PRICES", "limit_price"),
        (422, "INVALID_BRACKET_PRICES", "stop_price"),
    ]
