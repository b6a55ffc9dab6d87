"""The matcher ends each trading day of an instrument at its session's close: DAY orders
expire (EXPIRED_DAY) by a journaled clock command, once per day, also when the close passed
while no worker held the instrument; other orders stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain.commands import NewOrder
from shared.domain.instrument import Instrument
from shared.domain.sessions import TradingSession
from shared.ports.store import Store
from tests.integration.test_matcher_service import (
    ManualNs,
    eventually,
    make_service,
    unsettled,
)
from tests.integration.test_matcher_support import make_bus, send_commands

NEW_YORK = TradingSession(9 * 60 + 30, 16 * 60, "America/New_York")
S = 1_000_000_000


def new_york(text: str) -> int:
    zone = ZoneInfo("America/New_York")
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()) * S


async def entries(store: Store) -> list[tuple[str, list[tuple[str, str, str]]]]:
    return [
        (
            e.command_id,
            [(str(x["kind"]), str(x.get("order_id")), str(x.get("reason"))) for x in e.events],
        )
        async for e in store.journal.read_from("AAA", 1)
    ]


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    opened = await open_sqlite_store(":memory:")
    yield opened
    await opened.close()


async def test_day_orders_expire_at_the_close_once_and_gtc_orders_stay(
    store: Store, tmp_path: Path
) -> None:
    await store.instruments.create(Instrument("AAA", Decimal("0.01"), Decimal(1), session=NEW_YORK))
    clock = ManualNs()
    clock.now = new_york("2026-03-09 15:59:50")
    bus = make_bus()
    service = make_service(store, bus, tmp_path, clock=clock, tick_every=1.0)
    await service.start()
    day = NewOrder("d1", clock.now, "AAA", "day", "a", "buy", "limit", "day", 5, 100)
    gtc = NewOrder("g1", clock.now, "AAA", "gtc", "b", "sell", "limit", "gtc", 5, 101)
    await send_commands(bus, [day, gtc])
    await eventually(lambda: unsettled(bus) == 0)

    clock.now = new_york("2026-03-09 16:00:00.5")
    close = new_york("2026-03-09 16:00")

    async def expired() -> bool:
        return len(await entries(store)) == 3

    await eventually(expired)
    clock.now += 3600 * S  # later ticks end no other day
    await asyncio.sleep(0.2)
    await service.stop()

    journal = await entries(store)
    assert journal[-1] == (
        f"AAA:close:{close}",
        [("order_expired", "day", "EXPIRED_DAY")],
    )
    assert len(journal) == 3


async def test_a_close_passed_while_no_worker_held_the_instrument_ends_the_day_at_recovery(
    store: Store, tmp_path: Path
) -> None:
    await store.instruments.create(Instrument("AAA", Decimal("0.01"), Decimal(1), session=NEW_YORK))
    clock = ManualNs()
    clock.now = new_york("2026-03-06 15:00")  # a Friday
    bus = make_bus()
    service = make_service(store, bus, tmp_path, clock=clock, tick_every=1.0)
    await service.start()
    day = NewOrder("d1", clock.now, "AAA", "day", "a", "buy", "limit", "day", 5, 100)
    await send_commands(bus, [day])
    await eventually(lambda: unsettled(bus) == 0)
    await service.stop()

    # Monday: the first order brings the instrument back; its worker ends Friday first.
    clock.now = new_york("2026-03-09 09:31")
    again = make_service(store, bus, tmp_path, clock=clock, tick_every=1.0)
    await again.start()
    monday = NewOrder("d2", clock.now, "AAA", "monday", "a", "buy", "limit", "day", 5, 100)
    await send_commands(bus, [monday])

    async def expired() -> bool:
        return len(await entries(store)) == 3

    await eventually(expired)
    await again.stop()
    close = new_york("2026-03-06 16:00")
    assert (await entries(store))[1:] == [
        (f"AAA:close:{close}", [("order_expired", "day", "EXPIRED_DAY")]),
        ("d2", [("order_accepted", "monday", "None")]),
    ]


async def test_a_session_changed_in_the_store_reaches_the_running_worker(
    store: Store, tmp_path: Path
) -> None:
    await store.instruments.create(Instrument("AAA", Decimal("0.01"), Decimal(1)))
    clock = ManualNs()
    clock.now = new_york("2026-03-09 15:59")  # 24 hours: no close at 16:00 ...
    bus = make_bus()
    service = make_service(store, bus, tmp_path, clock=clock, tick_every=1.0)
    await service.start()
    day = NewOrder("d1", clock.now, "AAA", "day", "a", "buy", "limit", "day", 5, 100)
    await send_commands(bus, [day])
    await eventually(lambda: unsettled(bus) == 0)
    # ... until the admin gives it New York's hours; the worker reads them within 10 s.
    stored = await store.instruments.get("AAA")
    assert stored is not None
    await store.instruments.update(replace(stored, session=NEW_YORK), stored.version)
    clock.now = new_york("2026-03-09 15:59:30")
    await asyncio.sleep(0.1)
    clock.now = new_york("2026-03-09 16:00:01")

    async def expired() -> bool:
        return len(await entries(store)) == 2

    await eventually(expired)
    await service.stop()
    assert (await entries(store))[-1][1] == [("order_expired", "day", "EXPIRED_DAY")]
