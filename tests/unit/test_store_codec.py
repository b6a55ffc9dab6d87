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


def test_an_order_is_stored_under_the_names_earlier_versions_read() -> None:
    doc = order_to_doc(order_from_doc(dict(WRITTEN_BY_AN_EARLIER_VERSION)))
    # Every name it wrote kept; the fields added since come with their "nothing" values.
    added: dict[str, object] = {
        "pending_command": None,
        "reserved": "0",
        "event_seqs": [],
        "accepted_at": 0,
        "first_fill_at": 0,
        "completed_at": 0,
        "arrival_half_ticks": 0,
    }
    assert doc == {**WRITTEN_BY_AN_EARLIER_VERSION, **added}
