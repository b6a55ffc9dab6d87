"""Every command from the queue ends in the journal: one the venue fails on is refused there
(the order ends rejected, a resend is skipped), and one that changed nothing is recorded
too (a late redelivery after a restart is skipped, not applied again)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from matcher.service import instrument_worker
from matcher.service.venue import Venue, outcome_record, run_command
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.adapters.sqlite.store import open_sqlite_store
from shared.domain import reasons
from shared.domain.commands import CancelAll, Command, NewOrder, NewOrderGroup
from shared.domain.events import Event
from shared.ports.store import Store
from tests.integration.test_matcher_service import eventually, make_service, unsettled
from tests.integration.test_matcher_support import (
    EXECUTIONS,
    ORDERS,
    T0,
    journal_of,
    recovered_hash,
    reference,
    send_commands,
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await open_sqlite_store(tmp_path / "oms.db")
    yield s
    await s.close()


def no_dedupe_bus() -> InMemoryBus:
    """Duplicate detection off on `orders`: a resend arrives as it would once the
    detection window (10 minutes on Service Bus) has passed."""
    options = QueueOptions(requires_session=True, duplicate_detection_window=None)
    return InMemoryBus({ORDERS: options, EXECUTIONS: options})


def order(n: int, account: str = "a", side: str = "buy", price: int = 100) -> NewOrder:
    return NewOrder(f"cmd-{n}", T0 + n, "AAA", f"ord-{n}", account, side, "limit", "gtc", 5, price)


async def test_a_new_order_the_venue_fails_on_is_rejected_once_and_a_resend_is_skipped(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison, taker = order(2, "b", "sell", 101), order(3, "c", "sell", 100)

    def failing(venue: Venue, command: Command, out: list[Event], *, queued: bool) -> Command:
        recorded = run_command(venue, command, out, queued=queued)
        if command.command_id == poison.command_id:
            raise RuntimeError("the book is in a state the engine cannot handle")
        return recorded  # (the venue was changed before the failure: it must be rebuilt)

    monkeypatch.setattr(instrument_worker, "run_command", failing)
    bus = no_dedupe_bus()
    service = make_service(store, bus, tmp_path)
    await service.start()
    commands = [order(1), poison, taker]
    await send_commands(bus, commands)
    await eventually(lambda: unsettled(bus) == 0)
    await send_commands(bus, [poison])  # the outbox sweep sends it again
    await eventually(lambda: unsettled(bus) == 0)
    await service.stop()

    assert await bus.dead_letters(ORDERS) == []
    journal = await journal_of(store, "AAA")
    assert [command_id for command_id, _ in journal] == ["cmd-1", "cmd-2", "cmd-3"]
    (rejected,) = journal[1][1]
    assert (rejected["kind"], rejected["order_id"], rejected["reason"]) == (
        "order_rejected",
        "ord-2",
        reasons.ENGINE_ERROR,
    )
    assert (rejected["order_seq"], rejected["status"]) == (1, "rejected")
    # The book is as if the failed order never reached it: order 3 traded with order 1.
    clean = reference([order(1), outcome_record(poison, reasons.ENGINE_ERROR), taker])
    assert journal == clean["AAA"][0]
    assert await recovered_hash(store, tmp_path / "snapshots", "AAA") == clean["AAA"][1]


def bracket(n: int, account: str = "b") -> NewOrderGroup:
    """A bracket: buy 5 at 101, take profit at 110, stop out at 95."""
    head = f"grp-{n}"

    def leg(
        i: int, order_id: str, leg: str, side: str, kind: str, price: int, stop: int
    ) -> NewOrder:
        return NewOrder(
            f"cmd-{n}.{i}",
            T0 + n,
            "AAA",
            order_id,
            account,
            side,
            kind,
            "gtc",
            5,
            price,
            stop,
            order_class="bracket",
            leg=leg,
            parent_order_id="" if leg == "entry" else head,
        )

    return NewOrderGroup(
        f"cmd-{n}",
        T0 + n,
        "AAA",
        "bracket",
        (
            leg(1, head, "entry", "buy", "limit", 101, 0),
            leg(2, f"{head}-tp", "take_profit", "sell", "limit", 110, 0),
            leg(3, f"{head}-sl", "stop_loss", "sell", "stop", 0, 95),
        ),
    )


async def test_a_group_the_venue_fails_on_rejects_every_order_of_it_once(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison, taker = bracket(2), order(3, "c", "sell", 100)

    def failing(venue: Venue, command: Command, out: list[Event], *, queued: bool) -> Command:
        recorded = run_command(venue, command, out, queued=queued)
        if command.command_id == poison.command_id:
            raise RuntimeError("the book is in a state the engine cannot handle")
        return recorded

    monkeypatch.setattr(instrument_worker, "run_command", failing)
    bus = no_dedupe_bus()
    service = make_service(store, bus, tmp_path)
    await service.start()
    await send_commands(bus, [order(1), poison, taker])
    await eventually(lambda: unsettled(bus) == 0)
    await send_commands(bus, [poison])  # the outbox sweep sends it again
    await eventually(lambda: unsettled(bus) == 0)
    await service.stop()

    assert await bus.dead_letters(ORDERS) == []
    journal = await journal_of(store, "AAA")
    assert [command_id for command_id, _ in journal] == ["cmd-1", "cmd-2", "cmd-3"]
    # Every order of the group is answered, rejected (not a NothingChanged the group's
    # orders would wait on forever, pending_new, holding their share of the limits).
    rejected = [(e["kind"], e["order_id"], e["reason"], e["status"]) for e in journal[1][1]]
    assert rejected == [
        ("order_rejected", order_id, reasons.ENGINE_ERROR, "rejected")
        for order_id in ("grp-2", "grp-2-tp", "grp-2-sl")
    ]
    # The book is as if the group never reached it: order 3 traded with order 1 (at 100,
    # not with the bracket's entry at 101).
    clean = reference([order(1), outcome_record(poison, reasons.ENGINE_ERROR), taker])
    assert journal == clean["AAA"][0]
    assert await recovered_hash(store, tmp_path / "snapshots", "AAA") == clean["AAA"][1]
    fills = [e for e in journal[2][1] if e["kind"] == "order_filled"]
    assert {e["order_id"] for e in fills} == {"ord-1", "ord-3"}


async def test_a_command_that_changed_nothing_is_not_applied_again_after_a_restart(
    store: Store, tmp_path: Path
) -> None:
    bus = no_dedupe_bus()
    cancel_all = CancelAll("cancel-all-1", T0 + 1, "AAA", "a")  # a has no orders yet
    first = make_service(store, bus, tmp_path)
    await first.start()
    await send_commands(bus, [cancel_all, order(2)])
    await eventually(lambda: unsettled(bus) == 0)
    await first.stop()

    second = make_service(store, bus, tmp_path)  # a restart: nothing in memory
    await second.start()
    await send_commands(bus, [cancel_all])  # redelivered long after
    await eventually(lambda: unsettled(bus) == 0)
    await second.stop()

    journal = await journal_of(store, "AAA")
    assert [command_id for command_id, _ in journal] == ["cancel-all-1", "cmd-2"]
    (noted,) = journal[0][1]
    assert (noted["kind"], noted["command_id"], noted["reason"]) == (
        "nothing_changed",
        "cancel-all-1",
        "",
    )
    kinds: list[Any] = [event["kind"] for _, events in journal for event in events]
    assert "order_canceled" not in kinds  # order 2 still rests: the repeat was skipped
    expected = reference([cancel_all, order(2)])
    assert journal == expected["AAA"][0]
    assert await recovered_hash(store, tmp_path / "snapshots", "AAA") == expected["AAA"][1]
