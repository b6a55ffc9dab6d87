"""Orders of a live account routed to an external venue (issue #18), through the API, the
matcher and the gateway's report sink (the venue's side stands in as reports; the FIX tests
run the real connector): the request leaves for the venue's gateway, the venue's fills
count once, its reject text reaches the client, risk and the kill switch still apply."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.domain.enums import AccountType, Side
from shared.domain.events import VenueRequestIssued
from shared.gateway_messages import decode
from shared.ports.venue import ReportKind, VenueCancel, VenueOrder, VenueOrdStatus, VenueReport
from shared.venue_messages import bus_sink
from tests.api.test_venues_admin import ACME
from tests.support.oms import Client, Oms, Transport

LIMIT = {"symbol": "ABC", "side": "buy", "type": "limit", "quantity": "10", "limit_price": "99"}


async def routed_trader(oms: Oms, transport: Transport, **limits: Any) -> tuple[Client, Client]:
    admin = Client(transport, oms.admin_key)
    assert (await admin.call("POST", "/api/admin/venues", json=ACME)).status == 201
    await oms.add_instrument("ABC", "0.01", "1", reference_price="100")
    account, key = await oms.add_account("desk", AccountType.LIVE, **limits)
    routed = await admin.call("PATCH", f"/api/admin/accounts/{account}", json={"venue": "acme"})
    assert routed.status == 200, routed.body
    return Client(transport, key), admin


def issued(oms: Oms) -> list[VenueRequestIssued]:
    return [
        e for batch in oms.pump.batches for e in batch.events if isinstance(e, VenueRequestIssued)
    ]


async def venue_says(oms: Oms, *reports: VenueReport) -> None:
    """The gateway's sink, as `python -m gateway` wires it: each report a command on the
    instrument's session; then the matcher and the projector run."""
    store = oms.container.store
    sink = bus_sink(
        "acme", oms.container.bus, oms.container.settings.ORDERS_QUEUE, store.instruments,
        store.orders, clock=oms.clock,
    )  # fmt: skip
    for report in reports:
        await sink(report)
    await oms.settle()


def trade(order_id: str, exec_id: str, last: str, cum: str, **kw: Any) -> VenueReport:
    leaves = Decimal(10) - Decimal(cum)
    return VenueReport(
        "acme", ReportKind.TRADE, order_id, exec_id,
        VenueOrdStatus.FILLED if leaves == 0 else VenueOrdStatus.PARTIALLY_FILLED,
        symbol="ABC", side=Side.BUY, last_qty=Decimal(last), last_px=Decimal("98.5"),
        cum_qty=Decimal(cum), leaves_qty=leaves, transact_time=1_765_000_000_000_000_000, **kw,
    )  # fmt: skip


async def test_a_routed_order_goes_to_the_venue_and_its_fills_count_once(
    oms: Oms, transport: Transport
) -> None:
    client, _ = await routed_trader(oms, transport)
    placed = await client.place(**LIMIT, client_order_id="mine-1")
    assert placed.status == 202, placed.body
    order_id = placed.json()["order_id"]
    await oms.settle()
    (request,) = issued(oms)
    assert (request.venue, request.request_kind, request.cl_ord_id) == ("acme", "place", order_id)
    assert oms.pump.engines["ABC"].depth(5) == ([], [])  # not on the internal book
    # The gateway's queue has it, in the venue's units, under the venue's session.
    receiver = await oms.container.bus.accept_session(oms.container.settings.VENUES_QUEUE)
    assert receiver is not None and receiver.session_id == "acme"
    kinds = [decode(m.body) for m in await receiver.receive(10)]
    await receiver.close()
    (place,) = [k for k in kinds if k[0] == "place"]
    assert isinstance(place[3], VenueOrder)
    assert (place[3].cl_ord_id, place[3].quantity, place[3].price) == (
        order_id,
        Decimal(10),
        Decimal("99.00"),
    )
    shown = (await client.call("GET", f"/api/orders/{order_id}")).json()
    assert shown["status"] == "pending_new"

    new = VenueReport(
        "acme", ReportKind.NEW, order_id, "x1", VenueOrdStatus.NEW, symbol="ABC",
        leaves_qty=Decimal(10), venue_order_id="V-1",
    )  # fmt: skip
    await venue_says(oms, new, trade(order_id, "x2", "4", "4"))
    # The venue resends the fill (PossDup), and reports it again later under another id.
    await venue_says(
        oms, trade(order_id, "x2", "4", "4", poss_dup=True), trade(order_id, "x2b", "4", "4")
    )
    shown = (await client.call("GET", f"/api/orders/{order_id}")).json()
    assert (shown["status"], shown["filled_quantity"]) == ("partially_filled", "4")
    await venue_says(oms, trade(order_id, "x3", "6", "10"))
    shown = (await client.call("GET", f"/api/orders/{order_id}")).json()
    assert (shown["status"], shown["filled_quantity"]) == ("filled", "10")
    assert shown["average_fill_price"] == "98.5"
    fills = (await client.call("GET", "/api/executions")).json()["items"]
    assert sorted(f["quantity"] for f in fills) == ["4", "6"]


async def test_a_venue_reject_shows_its_text_and_a_cancel_goes_to_the_venue(
    oms: Oms, transport: Transport
) -> None:
    client, _ = await routed_trader(oms, transport)
    first = (await client.place(**LIMIT)).json()["order_id"]
    second = (await client.place(**LIMIT)).json()["order_id"]
    await oms.settle()
    rejected = VenueReport(
        "acme", ReportKind.REJECTED, first, "r1", VenueOrdStatus.REJECTED, symbol="ABC",
        text="price outside the venue's band",
    )  # fmt: skip
    accepted = VenueReport("acme", ReportKind.NEW, second, "n2", VenueOrdStatus.NEW, symbol="ABC")
    await venue_says(oms, rejected, accepted)
    shown = (await client.call("GET", f"/api/orders/{first}")).json()
    assert (shown["status"], shown["reject_reason"], shown["reject_text"]) == (
        "rejected",
        "VENUE_REJECTED",
        "price outside the venue's band",
    )

    assert (await client.call("DELETE", f"/api/orders/{second}")).status in (200, 202)
    await oms.settle()
    cancel = issued(oms)[-1]
    assert (cancel.request_kind, cancel.cl_ord_id, cancel.orig_cl_ord_id) == (
        "cancel",
        f"{second}.1",
        second,
    )
    too_late = VenueReport(
        "acme", ReportKind.CANCEL_REJECTED, f"{second}.1", "", VenueOrdStatus.NEW,
        orig_cl_ord_id=second, text="order is being filled",
    )  # fmt: skip
    await venue_says(oms, too_late)  # (no symbol: the sink finds the order's instrument)
    shown = (await client.call("GET", f"/api/orders/{second}")).json()
    assert (shown["status"], shown["reject_reason"], shown["reject_text"]) == (
        "new",
        "VENUE_REJECTED",
        "order is being filled",
    )


async def test_risk_and_the_kill_switch_apply_to_routed_orders(
    oms: Oms, transport: Transport
) -> None:
    client, admin = await routed_trader(oms, transport, max_order_notional=Decimal(500))
    refused = await client.place(**LIMIT)  # 10 x 99 > 500
    assert refused.status == 422 and refused.json()["reason"] == "NOTIONAL_EXCEEDS_LIMIT"
    small = {**LIMIT, "quantity": "2"}
    working = (await client.place(**small)).json()["order_id"]
    await oms.settle()
    await venue_says(
        oms, VenueReport("acme", ReportKind.NEW, working, "n", VenueOrdStatus.NEW, symbol="ABC")
    )
    halt = {"scope": "instrument", "symbol": "ABC", "state": "halted"}
    halted = await admin.call("POST", "/api/admin/trading-state", json=halt)
    assert halted.status in (200, 202), halted.body
    await oms.settle()
    cancel = issued(oms)[-1]
    assert (cancel.order_id, cancel.request_kind) == (working, "cancel")
    receiver = await oms.container.bus.accept_session(oms.container.settings.VENUES_QUEUE)
    assert receiver is not None
    requests = [decode(m.body)[3] for m in await receiver.receive(10)]
    await receiver.close()
    assert any(isinstance(r, VenueCancel) and r.orig_cl_ord_id == working for r in requests)
    canceled = VenueReport(
        "acme", ReportKind.CANCELED, f"{working}.1", "c", VenueOrdStatus.CANCELED, symbol="ABC"
    )
    await venue_says(oms, canceled)
    shown = (await client.call("GET", f"/api/orders/{working}")).json()
    assert (shown["status"], shown["reject_reason"]) == ("canceled", "CANCELED_BY_HALT")
    again = await client.place(**small)
    assert again.status in (409, 422) or again.json().get("status") == "rejected", again.body
