"""A single order's newer instructions at intake: trailing stops (an amount or a percentage,
exact), icebergs, post-only and reduce-only, the auction time in force refused; each refusal
names its field and reason, and what is accepted reaches the matcher whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared.domain.commands import Command, NewOrder, ReplaceOrder
from shared.messages import decode_command
from shared.ports.bus import BusMessage
from tests.support.oms import Client, Oms, Transport

TRAIL = {"symbol": "ABC", "side": "sell", "type": "trailing_stop", "quantity": "10"}
LIMIT = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "10", "limit_price": "99"}


@contextmanager
def recorded(oms: Oms) -> Iterator[list[Command]]:
    """The commands the intake sends to the matcher's queue while inside."""
    bus = oms.container.bus
    send = bus.send
    commands: list[Command] = []

    async def recording(queue: str, messages: list[BusMessage]) -> None:
        await send(queue, messages)
        if queue == oms.container.settings.ORDERS_QUEUE:
            commands.extend(decode_command(m.body) for m in messages)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bus, "send", recording)
        yield commands


async def trader(oms: Oms, transport: Transport) -> Client:
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    _, key = await oms.add_account("trader")
    return Client(transport, key)


async def test_a_trailing_stop_by_amount_or_percent_is_kept_exactly(
    oms: Oms, transport: Transport
) -> None:
    client = await trader(oms, transport)
    with recorded(oms) as sent:
        by_amount = await client.place(**TRAIL, trail_amount="1.25", time_in_force="gtc")
        by_percent = await client.place(**TRAIL, trail_percent="0.0125")

    assert (by_amount.status, by_percent.status) == (202, 202), by_percent.body
    shown = by_amount.json()
    assert (shown["type"], shown["trail_amount"], shown["trail_percent"]) == (
        "trailing_stop",
        "1.25",
        None,
    )
    assert (shown["stop_price"], shown["high_water_mark"], shown["limit_price"]) == (
        None,
        None,
        None,
    )
    assert by_percent.json()["trail_percent"] == "0.0125"
    commands = [c for c in sent if isinstance(c, NewOrder)]
    assert [(c.order_type, c.trail_amount, c.trail_cbps) for c in commands] == [
        ("trailing_stop", 125, 0),
        ("trailing_stop", 0, 125),
    ]
    again = await client.call("GET", f"/api/orders/{shown['order_id']}")
    assert again.json()["trail_amount"] == "1.25"


async def test_an_iceberg_and_a_post_only_order_reach_the_matcher_with_their_instructions(
    oms: Oms, transport: Transport
) -> None:
    client = await trader(oms, transport)
    with recorded(oms) as sent:
        iceberg = await client.place(**LIMIT, display_quantity="2", post_only=True)
        reducing = await client.place(**LIMIT, post_only=False)

    assert (iceberg.status, reducing.status) == (202, 202)
    shown = iceberg.json()
    assert (shown["display_quantity"], shown["post_only"], shown["reduce_only"]) == (
        "2",
        True,
        False,
    )
    assert (shown["order_class"], shown["legs"], shown["held_quantity"]) == ("simple", None, "0")
    assert reducing.json()["display_quantity"] is None
    command = sent[0]
    assert isinstance(command, NewOrder)
    assert (command.display_qty, command.post_only, command.reduce_only) == (2, True, False)


REFUSALS: list[tuple[dict[str, Any], str, str]] = [
    (TRAIL, "INVALID_TRAIL", "trail_amount"),
    ({**TRAIL, "trail_amount": "1", "trail_percent": "1"}, "INVALID_TRAIL", "trail_amount"),
    ({**TRAIL, "trail_percent": "0.00001"}, "INVALID_TRAIL", "trail_percent"),
    ({**TRAIL, "trail_percent": "100"}, "INVALID_TRAIL", "trail_percent"),
    ({**TRAIL, "trail_amount": "0.001"}, "PRICE_OFF_TICK", "trail_amount"),
    ({**TRAIL, "trail_amount": "0"}, "INVALID_TRAIL", "trail_amount"),
    ({**TRAIL, "trail_amount": "-1"}, "INVALID_TRAIL", "trail_amount"),
    ({**TRAIL, "trail_amount": "one"}, "INVALID_TRAIL", "trail_amount"),
    ({**TRAIL, "trail_percent": "0"}, "INVALID_TRAIL", "trail_percent"),
    ({**LIMIT, "post_only": "yes"}, "INVALID_VALUE", "post_only"),
    ({**LIMIT, "post_only": "true"}, "INVALID_VALUE", "post_only"),
    ({**LIMIT, "reduce_only": 1}, "INVALID_VALUE", "reduce_only"),
    ({**LIMIT, "reduce_only": "false"}, "INVALID_VALUE", "reduce_only"),
    ({**TRAIL, "trail_amount": "1", "stop_price": "95"}, "UNEXPECTED_PRICE", "stop_price"),
    ({**LIMIT, "trail_amount": "1"}, "INVALID_TRAIL", "trail_amount"),
    ({**LIMIT, "display_quantity": "10"}, "INVALID_DISPLAY_QUANTITY", "display_quantity"),
    ({**LIMIT, "display_quantity": "0.5"}, "QUANTITY_OFF_LOT", "display_quantity"),
    (
        {**LIMIT, "type": "market", "limit_price": None, "display_quantity": "1"},
        "INVALID_DISPLAY_QUANTITY",
        "display_quantity",
    ),
    (
        {**LIMIT, "type": "stop_limit", "stop_price": "99", "post_only": True},
        "POST_ONLY_NOT_LIMIT",
        "post_only",
    ),
    (
        {**LIMIT, "display_quantity": "2", "time_in_force": "ioc"},
        "INVALID_DISPLAY_QUANTITY",
        "display_quantity",
    ),
    (
        {**LIMIT, "post_only": True, "time_in_force": "fok"},
        "INVALID_TIME_IN_FORCE",
        "time_in_force",
    ),
    ({**LIMIT, "time_in_force": "opg"}, "TIME_IN_FORCE_NOT_SUPPORTED", "time_in_force"),
    ({**LIMIT, "time_in_force": "cls"}, "TIME_IN_FORCE_NOT_SUPPORTED", "time_in_force"),
    ({**LIMIT, "take_profit": {"limit_price": "110"}}, "INVALID_ORDER_CLASS", "take_profit"),
]


@pytest.mark.parametrize(("body", "reason", "field"), REFUSALS)
async def test_each_refused_instruction_names_its_field_and_stores_nothing(
    oms: Oms, functions_transport: Transport, body: dict[str, Any], reason: str, field: str
) -> None:
    client = await trader(oms, functions_transport)

    reply = await client.place(**{k: v for k, v in body.items() if v is not None})

    assert reply.status == 422, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert (reply.json()["reason"], reply.json()["field"]) == (reason, field)
    assert (await client.call("GET", "/api/orders")).json()["items"] == []


async def test_a_trailing_stops_trail_is_replaced_in_its_own_kind(
    oms: Oms, functions_transport: Transport
) -> None:
    client = await trader(oms, functions_transport)
    order_id = (await client.place(**TRAIL, trail_percent="1")).json()["order_id"]
    with recorded(oms) as sent:
        wrong_kind = await client.call(
            "PATCH", f"/api/orders/{order_id}", json={"trail_amount": "2"}
        )
        stop = await client.call("PATCH", f"/api/orders/{order_id}", json={"stop_price": "90"})
        tighter = await client.call(
            "PATCH", f"/api/orders/{order_id}", json={"trail_percent": "0.5"}
        )

    assert (wrong_kind.json()["reason"], wrong_kind.json()["field"]) == (
        "INVALID_TRAIL",
        "trail_amount",
    )
    assert (stop.json()["reason"], stop.json()["field"]) == ("REPLACE_INVALID", "stop_price")
    assert tighter.status == 202, tighter.body
    replaces = [c for c in sent if isinstance(c, ReplaceOrder)]
    assert [(c.trail_amount, c.trail_cbps, c.quantity) for c in replaces] == [(0, 5_000, 0)]
