"""Venue reports to the instrument's session: the command's shape, integral quantities on
the instrument's grid, ids that make every copy of one report one command, and the sink
that sends them on the orders queue (the in-memory bus, SQLite)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.factory import memory_queues
from shared.adapters.sqlite.store import open_sqlite_store
from shared.config.settings import Settings
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.domain.order import Order
from shared.ports.store import Store
from shared.ports.venue import ReportKind, VenueOrdStatus, VenueReport
from shared.venue_messages import (
    REPORT_FIELDS,
    bus_sink,
    command_id_of,
    decode_report,
    report_command,
    report_message,
)

T0 = 1_750_000_000_000_000_000  # 2025-06-15 15:06:40 UTC
AAPL = Instrument("AAPL", Decimal("0.01"), Decimal("1"))


def fill(**overrides: object) -> VenueReport:
    fields: dict[str, object] = {
        "venue": "acme",
        "kind": ReportKind.TRADE,
        "cl_ord_id": "0193aa.2",
        "exec_id": "X17",
        "ord_status": VenueOrdStatus.PARTIALLY_FILLED,
        "symbol": "AAPL",
        "side": Side.BUY,
        "venue_order_id": "V3",
        "orig_cl_ord_id": "0193aa.1",
        "last_qty": Decimal("40"),
        "last_px": Decimal("101.25"),
        "cum_qty": Decimal("60"),
        "leaves_qty": Decimal("40"),
        "avg_px": Decimal("101.1833333"),
        "transact_time": T0,
        "seq_num": 12,
    }
    fields.update(overrides)
    return VenueReport(**fields)  # type: ignore[arg-type]


def test_a_fill_becomes_an_integral_command_for_the_instruments_session():
    command = report_command(fill(), AAPL, ts=T0 + 5)
    message = report_message(command)

    assert (message.session_id, message.message_id) == ("AAPL", "venue:acme:20250615:X17")
    assert message.application_properties == {"kind": "venue_report"}
    data = decode_report(message.body).to_dict()
    assert list(data) == ["kind", *REPORT_FIELDS] and data["kind"] == "venue_report"
    assert decode_report(message.body) == command
    assert (command.order_id, command.cl_ord_id, command.orig_cl_ord_id) == (
        "0193aa",
        "0193aa.2",
        "0193aa.1",
    )
    assert (command.last_qty, command.last_px, command.cum_qty, command.leaves_qty) == (
        40,
        10_125,
        60,
        40,
    )
    assert command.is_fill and command.on_grid and command.ts == T0 + 5
    assert command.avg_px_text == "101.1833333" and command.venue_ts == T0


def test_every_copy_of_one_report_is_one_command_and_other_reports_are_others():
    first = command_id_of(fill())
    resent = command_id_of(fill(poss_dup=True, seq_num=40))
    other_venue = command_id_of(fill(venue="beta"))
    next_day = command_id_of(fill(transact_time=T0 + 86_400 * 10**9))
    status = fill(kind=ReportKind.STATUS, exec_id="0", request_id="st-1")

    assert first == resent
    assert len({first, other_venue, next_day}) == 3
    assert command_id_of(status) == "venue:acme:status:0193aa.2:partially_filled:60:st-1"
    assert command_id_of(dataclasses.replace(status, request_id="st-2")) != command_id_of(status)
    assert command_id_of(fill(transact_time=0)) == "venue:acme:-:X17"
    # A status answer is never a fill, whatever its quantities say.
    assert not report_command(status, AAPL, T0).is_fill


def test_quantities_off_the_instruments_grid_are_flagged_never_rounded():
    command = report_command(fill(last_qty=Decimal("0.5"), last_px=Decimal("101.255")), AAPL, T0)

    assert not command.on_grid
    assert (command.last_qty, command.last_px) == (0, 0)
    assert (command.last_qty_text, command.last_px_text) == ("0.5", "101.255")


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    db = await open_sqlite_store(":memory:")
    yield db
    await db.close()


async def test_the_sink_sends_reports_to_the_instruments_session_once_per_report(
    store: Store, caplog: pytest.LogCaptureFixture
):
    settings = Settings()
    bus = InMemoryBus(memory_queues(settings))
    await store.instruments.create(AAPL)
    order = Order(
        "0193aa", "c-1", "acc-1", "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 100,
        10_100, None, T0,
    )  # fmt: skip
    await store.orders.create(order)
    sink = bus_sink("acme", bus, settings.ORDERS_QUEUE, store.instruments, store.orders, lambda: 7)
    cancel_reject = fill(
        kind=ReportKind.CANCEL_REJECTED, exec_id="cxlrej:0193aa.3", cl_ord_id="0193aa.3",
        symbol="", last_qty=Decimal(0), last_px=Decimal(0), text="too late",
    )  # fmt: skip

    await sink(fill())
    await sink(fill(poss_dup=True))  # the venue's resend
    await sink(cancel_reject)  # FIX OrderCancelReject has no Symbol: our order's instrument
    await sink(fill(symbol="", cl_ord_id="FOREIGN-1"))  # nothing of ours: audit only

    receiver = await bus.accept_session(settings.ORDERS_QUEUE, "AAPL")
    assert receiver is not None
    commands = [decode_report(m.body) for m in await receiver.receive(10)]
    assert [(c.report_kind, c.exec_id, c.ts) for c in commands] == [
        ("trade", "X17", 7),
        ("cancel_rejected", "cxlrej:0193aa.3", 7),
    ]
    assert commands[1].text == "too late" and commands[1].order_id == "0193aa"
    assert any(
        r.name == "audit" and "FOREIGN-1" in r.getMessage() and r.levelname == "ERROR"
        for r in caplog.records
    )
