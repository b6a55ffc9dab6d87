"""Contract: the Alpaca connector against Alpaca's real paper environment.

Runs when ALPACA_PAPER_API_KEY_ID and ALPACA_PAPER_API_SECRET_KEY hold a paper account's
keys (the same names a venue definition can reference: `"credentials": {"key_id":
"ALPACA_PAPER_API_KEY_ID", "secret_key": "ALPACA_PAPER_API_SECRET_KEY"}`); skipped with
the reason otherwise. It places one limit order far below the market (it never fills),
reads it back, proves a second submission makes no second order, replaces it and cancels
it; nothing is left open. The local tests (tests/integration/test_alpaca_connector.py)
cover the same behaviour against a stand-in.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from gateway.alpaca.connector import AlpacaConnector
from shared.domain.enums import OrderType, Side, TimeInForce
from shared.ports.venue import (
    ReportKind,
    VenueCancel,
    VenueOrder,
    VenueOrdStatus,
    VenueReplace,
    VenueReport,
)
from tests.support.fix_exchange import eventually

KEY_ID = os.environ.get("ALPACA_PAPER_API_KEY_ID", "")
SECRET_KEY = os.environ.get("ALPACA_PAPER_API_SECRET_KEY", "")

pytestmark = [
    pytest.mark.skipif(
        not (KEY_ID and SECRET_KEY),
        reason="set ALPACA_PAPER_API_KEY_ID and ALPACA_PAPER_API_SECRET_KEY (an Alpaca paper"
        " account's keys) to run the Alpaca contract test against the real paper environment",
    ),
    pytest.mark.timeout(180),
]

T0 = 1_750_000_000_000_000_000


class Reports:
    def __init__(self) -> None:
        self.items: list[VenueReport] = []

    async def __call__(self, report: VenueReport) -> None:
        self.items.append(report)


@pytest.fixture
async def paper() -> AsyncIterator[tuple[AlpacaConnector, Reports]]:
    reports = Reports()
    connector = AlpacaConnector("alpaca-paper", KEY_ID, SECRET_KEY, environment="paper")
    await connector.start(reports)
    try:
        assert await connector.wait_connected(30), connector.connection
        yield connector, reports
    finally:
        await connector.stop()


async def test_an_order_is_placed_once_read_back_replaced_and_canceled(paper):
    connector, reports = paper
    cl_ord_id = f"oms-contract-{uuid.uuid4().hex[:12]}"
    order = VenueOrder(
        cl_ord_id, "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.DAY, Decimal(1), T0,
        price=Decimal("1.00"),
    )  # fmt: skip
    current = cl_ord_id
    try:
        await connector.place(order)
        placed = await connector.status(cl_ord_id, "AAPL", Side.BUY, timeout=20)
        assert placed.venue_order_id and placed.kind is ReportKind.STATUS and not placed.is_fill
        assert placed.price == Decimal("1") and placed.order_qty == Decimal(1)

        await connector.place(order)  # again: Alpaca refuses the client order id
        mine = [r for r in await connector.open_orders(timeout=20) if r.cl_ord_id == cl_ord_id]
        assert len(mine) == 1

        replace = VenueReplace(
            f"{cl_ord_id}.1", cl_ord_id, "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.DAY,
            Decimal(2), T0, price=Decimal("1.01"),
        )  # fmt: skip
        await connector.replace(replace)
        answer = [r for r in reports.items if r.cl_ord_id == replace.cl_ord_id]
        assert answer, "a replace is answered (replaced, or refused with Alpaca's text)"
        if answer[0].kind is ReportKind.REPLACED:
            current = replace.cl_ord_id
            assert answer[0].orig_cl_ord_id == cl_ord_id and answer[0].order_qty == Decimal(2)
        else:
            assert answer[0].kind is ReportKind.CANCEL_REJECTED and answer[0].text

        await connector.cancel(
            VenueCancel(f"{cl_ord_id}.2", current, "AAPL", Side.BUY, Decimal(1), T0)
        )

        async def canceled() -> bool:
            status = await connector.status(current, "AAPL", Side.BUY, timeout=20)
            return status.ord_status is VenueOrdStatus.CANCELED

        await eventually(canceled, timeout=60)
    finally:
        status = await connector.status(current, "AAPL", Side.BUY, timeout=20)
        if status.ord_status not in (VenueOrdStatus.CANCELED, VenueOrdStatus.REJECTED):
            await connector.cancel(
                VenueCancel(f"{current}.x", current, "AAPL", Side.BUY, Decimal(1), T0)
            )
