"""Stored order documents keep the field names earlier versions wrote, so the orders in an
existing database (`.oms-data`, a Cosmos DB collection) read back unchanged."""

from __future__ import annotations

from shared.domain.enums import OrderStatus
from shared.ports.store_codec import order_from_doc, order_to_doc

WRITTEN_BY_AN_EARLIER_VERSION = {
    "order_id": "o-1",
    "client_order_id": "c-1",
    "account_id": "acc-1",
    "symbol": "AAPL",
    "side": "buy",
    "type": "limit",
    "time_in_force": "gtc",
    "quantity": 10,
    "limit_price": 15_000,
    "stop_price": None,
    "created_at": 1,
    "expire_at": None,
    "status": "partially_filled",
    "filled_quantity": 4,
    "leaves_quantity": 6,
    "canceled_quantity": 0,
    "filled_notional": 60_000,
    "fees": 12,
    "reject_reason": None,
    "updated_at": 2,
    "seq": 3,
    "version": 3,
    "dispatched": True,
    "client_order_id_chain": [],
}


def test_an_order_stored_by_an_earlier_version_reads_back_with_its_fills() -> None:
    order = order_from_doc(dict(WRITTEN_BY_AN_EARLIER_VERSION))
    assert (order.status, order.cum_qty, order.leaves_qty, order.canceled_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        4,
        6,
        0,
    )
    assert order.avg_px == 15_000


# The fields added since, with their "nothing" values: the risk ledger's and the order's
# analytics (#15, #16), then the order model's (#14).
ACCOUNTING_FIELDS: dict[str, object] = {
    "reserved": "0",
    "event_seqs": [],
    "accepted_at": 0,
    "first_fill_at": 0,
    "completed_at": 0,
    "arrival_half_ticks": 0,
}
A_SIMPLE_ORDERS_NEWER_FIELDS = {
    **ACCOUNTING_FIELDS,
    "pending_command": None,
    "held_quantity": 0,
    "display_quantity": 0,
    "post_only": False,
    "reduce_only": False,
    "trail_amount": 0,
    "trail_cbps": 0,
    "high_water_mark": None,
    "order_class": "simple",
    "leg": "",
    "parent_order_id": "",
    # Issue #18: where it works ("" internal or paper) and an external venue's reject text.
    "venue": "",
    "reject_text": "",
}


def test_an_order_is_stored_under_the_names_earlier_versions_read() -> None:
    doc = order_to_doc(order_from_doc(dict(WRITTEN_BY_AN_EARLIER_VERSION)))
    assert doc == {**WRITTEN_BY_AN_EARLIER_VERSION, **A_SIMPLE_ORDERS_NEWER_FIELDS}


def test_a_contingent_trailing_leg_keeps_every_field_through_its_document() -> None:
    newer = {
        **WRITTEN_BY_AN_EARLIER_VERSION,
        "type": "trailing_stop",
        "side": "sell",
        "limit_price": None,
        "stop_price": 14_900,
        "status": "held",
        "filled_quantity": 0,
        "leaves_quantity": 0,
        "filled_notional": 0,
        "fees": 0,
        "pending_command": None,
        "held_quantity": 10,
        "display_quantity": 0,
        "post_only": False,
        "reduce_only": False,
        "trail_amount": 0,
        "trail_cbps": 12_500,
        "high_water_mark": 15_100,
        "order_class": "bracket",
        "leg": "stop_loss",
        "parent_order_id": "o-0",
        **ACCOUNTING_FIELDS,
        "venue": "ext:acme",
        "reject_text": "venue: too late",
    }
    order = order_from_doc(dict(newer))
    assert (order.status, order.held_qty, order.trail_cbps, order.high_water_mark) == (
        OrderStatus.HELD,
        10,
        12_500,
        15_100,
    )
    assert (order.order_class, order.leg, order.parent_order_id) == ("bracket", "stop_loss", "o-0")
    assert (order.venue, order.reject_text) == ("ext:acme", "venue: too late")
    assert order_to_doc(order) == newer


def test_an_iceberg_post_only_and_a_reduce_only_order_keep_their_instructions() -> None:
    newer = {
        **WRITTEN_BY_AN_EARLIER_VERSION,
        **A_SIMPLE_ORDERS_NEWER_FIELDS,
        "display_quantity": 2,
        "post_only": True,
        "reduce_only": True,
    }
    assert order_to_doc(order_from_doc(dict(newer))) == newer
