"""The in-memory bus under injected faults, and its own edges (waiting, closing, errors)."""

from __future__ import annotations

import asyncio
import gc

import pytest

from shared.adapters.bus_faults import BusFaults, FaultRates, ManualClock
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.ports.bus import (
    DEAD_LETTER_MAX_DELIVERY,
    BusMessage,
    MessageLockLostError,
    QueueNotFoundError,
    SessionLockLostError,
)

SESSIONS = QueueOptions(requires_session=True, lock_duration=30.0, max_delivery_count=5)
PLAIN = QueueOptions(lock_duration=30.0, max_delivery_count=5)


def make_bus(
    clock: ManualClock, faults: BusFaults | None = None, duplicate_window: float | None = 60.0
) -> InMemoryBus:
    return InMemoryBus(
        {
            "orders": QueueOptions(True, 30.0, 5, duplicate_window),
            "requests": QueueOptions(False, 30.0, 5, duplicate_window),
        },
        clock=clock,
        faults=faults,
    )


def command(message_id: str, session_id: str | None = "AAPL") -> BusMessage:
    return BusMessage(body=message_id.encode(), message_id=message_id, session_id=session_id)


async def consume_with_faults(
    seed: int,
) -> tuple[list[tuple[str, int]], set[str], list[str], BusFaults]:
    """A matcher-like consumer over 40 commands in 4 sessions with every fault switched on.
    Returns the deliveries, the ids completed, the ids dead-lettered and the fault log."""
    clock = ManualClock()
    faults = BusFaults(
        seed,
        FaultRates(expire_lock=0.1, redeliver=0.1, duplicate_send=0.1, delay=0.1, max_delay=2.0),
    )
    bus = make_bus(clock, faults)
    sent = [command(f"{s}-{i}", s) for i in range(10) for s in ("AAPL", "MSFT", "TSLA", "IBM")]
    await bus.send("orders", sent)
    deliveries: list[tuple[str, int]] = []
    completed: set[str] = set()
    for _ in range(200):
        receiver = await bus.accept_session("orders")
        if receiver is None:
            clock.advance(0.5)  # let delayed messages and lapsed locks come due
            continue
        try:
            for message in await receiver.receive(max_count=4):
                deliveries.append((message.message_id, message.delivery_count))
                try:
                    await receiver.complete(message)
                    completed.add(message.message_id)
                except MessageLockLostError:
                    pass
        except SessionLockLostError:
            pass
        await receiver.close()
    dead = [d.message.message_id for d in await bus.dead_letters("orders")]
    return deliveries, completed, dead, faults


async def test_the_same_seed_injects_the_same_faults() -> None:
    first = await consume_with_faults(7)
    second = await consume_with_faults(7)
    other = await consume_with_faults(8)
    assert first[0] == second[0]
    assert first[3].injected == second[3].injected
    assert first[3].injected != other[3].injected
    kinds = {fault for fault, _ in first[3].injected}
    assert kinds == {"expire_lock", "redeliver", "duplicate_send", "delay"}


async def test_faults_never_lose_a_message() -> None:
    deliveries, completed, dead, _ = await consume_with_faults(7)
    everything = {f"{s}-{i}" for i in range(10) for s in ("AAPL", "MSFT", "TSLA", "IBM")}
    assert completed | set(dead) == everything
    assert len(deliveries) > len(everything)  # redeliveries and duplicates did happen


async def test_a_duplicated_send_is_delivered_twice() -> None:
    bus = make_bus(ManualClock(), BusFaults(1, FaultRates(duplicate_send=1.0)))
    await bus.send("orders", [command("cmd-1")])
    receiver = await bus.accept_session("orders")
    assert receiver is not None
    messages = await receiver.receive(max_count=10)
    assert [m.message_id for m in messages] == ["cmd-1", "cmd-1"]
    assert messages[0].sequence_number != messages[1].sequence_number


async def test_an_expired_lock_fault_hands_the_batch_to_the_next_receiver() -> None:
    bus = make_bus(ManualClock(), BusFaults(1, FaultRates(expire_lock=1.0)))
    await bus.send("orders", [command("cmd-1"), command("cmd-2")])
    first = await bus.accept_session("orders")
    assert first is not None
    batch = await first.receive(max_count=2)
    with pytest.raises(SessionLockLostError):
        await first.complete(batch[0])
    second = await bus.accept_session("orders")
    assert second is not None
    again = await second.receive(max_count=2)
    assert [(m.message_id, m.delivery_count) for m in again] == [("cmd-1", 2), ("cmd-2", 2)]


async def test_a_lost_completion_redelivers_until_the_dead_letter_queue() -> None:
    bus = make_bus(ManualClock(), BusFaults(1, FaultRates(redeliver=1.0)))
    await bus.send("requests", [command("req-1", None)])
    receiver = await bus.queue_receiver("requests")
    counts = []
    while messages := await receiver.receive():
        counts.append(messages[0].delivery_count)
        with pytest.raises(MessageLockLostError):
            await receiver.complete(messages[0])
    assert counts == [1, 2, 3, 4, 5]
    [dead] = await bus.dead_letters("requests")
    assert (dead.message.message_id, dead.reason) == ("req-1", DEAD_LETTER_MAX_DELIVERY)


async def test_a_delayed_message_holds_back_its_session_but_not_the_others() -> None:
    clock = ManualClock()
    # Seed 0 delays A1 by 7.6 s, A2 by 2.6 s and B1 by 4.1 s.
    bus = make_bus(clock, BusFaults(0, FaultRates(delay=1.0, max_delay=10.0)))
    await bus.send("orders", [command("A1", "A"), command("A2", "A"), command("B1", "B")])
    order: list[str] = []
    for _ in range(25):
        for session in ("A", "B"):
            receiver = await bus.accept_session("orders", session)
            assert receiver is not None
            for message in await receiver.receive(max_count=5):
                order.append(message.message_id)
                await receiver.complete(message)
            await receiver.close()
        clock.advance(0.5)
    assert order == ["B1", "A1", "A2"]


async def test_forcing_a_session_lock_to_lapse_moves_the_session() -> None:
    bus = make_bus(ManualClock())
    await bus.send("orders", [command("cmd-1")])
    first = await bus.accept_session("orders", auto_renew_for=3600.0)
    assert first is not None
    assert [m.delivery_count for m in await first.receive()] == [1]
    bus.expire_session_lock("orders", "AAPL")
    second = await bus.accept_session("orders")
    assert second is not None and second.session_id == "AAPL"
    with pytest.raises(SessionLockLostError):
        await first.renew_lock()
    assert [m.delivery_count for m in await second.receive()] == [2]


async def test_forcing_message_locks_to_lapse_gives_the_message_to_another_consumer() -> None:
    bus = make_bus(ManualClock())
    await bus.send("requests", [command("req-1", None)])
    first = await bus.queue_receiver("requests")
    second = await bus.queue_receiver("requests")
    [message] = await first.receive()
    assert await second.receive() == []
    bus.expire_message_locks("requests")
    [again] = await second.receive()
    assert (again.message_id, again.delivery_count) == ("req-1", 2)
    with pytest.raises(MessageLockLostError):
        await first.complete(message)
    await second.complete(again)


async def test_a_plain_message_lock_lapses_with_the_clock() -> None:
    clock = ManualClock()
    bus = make_bus(clock)
    await bus.send("requests", [command("req-1", None)])
    first = await bus.queue_receiver("requests")
    [message] = await first.receive()
    clock.advance(29.0)
    await first.abandon(message)  # still locked: abandon works
    [again] = await first.receive()
    clock.advance(31.0)
    [third] = await (await bus.queue_receiver("requests")).receive()
    assert (again.delivery_count, third.delivery_count) == (2, 3)


async def test_closing_a_session_receiver_puts_unsettled_messages_back_in_order() -> None:
    bus = make_bus(ManualClock())
    await bus.send("orders", [command(f"cmd-{i}") for i in range(4)])
    first = await bus.accept_session("orders")
    assert first is not None
    batch = await first.receive(max_count=3)
    await first.complete(batch[0])
    await first.close()
    with pytest.raises(SessionLockLostError):
        await first.complete(batch[1])
    second = await bus.accept_session("orders")
    assert second is not None
    assert [m.message_id for m in await second.receive(max_count=10)] == [
        "cmd-1",
        "cmd-2",
        "cmd-3",
    ]


async def test_a_waiting_receiver_wakes_when_a_message_arrives() -> None:
    bus = make_bus(ManualClock())
    acceptor = asyncio.create_task(bus.accept_session("orders", max_wait=5.0))
    await asyncio.sleep(0.01)
    await bus.send("orders", [command("cmd-1")])
    receiver = await asyncio.wait_for(acceptor, 1.0)
    assert receiver is not None and receiver.session_id == "AAPL"
    waiting = asyncio.create_task(receiver.receive(max_wait=5.0))
    [first] = await receiver.receive()
    await bus.send("orders", [command("cmd-2")])
    assert [m.message_id for m in await asyncio.wait_for(waiting, 1.0)] == ["cmd-2"]
    assert first.message_id == "cmd-1"


async def test_without_a_window_a_resent_id_is_delivered_again() -> None:
    bus = make_bus(ManualClock(), duplicate_window=None)
    await bus.send("requests", [command("req-1", None), command("req-1", None)])
    receiver = await bus.queue_receiver("requests")
    assert len(await receiver.receive(max_count=5)) == 2


async def test_misaddressed_calls_are_refused() -> None:
    bus = make_bus(ManualClock())
    with pytest.raises(ValueError, match="session_id"):
        await bus.send("orders", [command("cmd-1", None)])
    with pytest.raises(ValueError, match="message_id"):
        await bus.send("requests", [command("", None)])
    with pytest.raises(QueueNotFoundError):
        await bus.send("nope", [command("cmd-1")])
    with pytest.raises(QueueNotFoundError):
        await bus.accept_session("requests")
    with pytest.raises(QueueNotFoundError):
        await bus.queue_receiver("orders")


async def test_taking_over_an_idle_lapsed_session_still_receives_what_is_sent_next() -> None:
    clock = ManualClock()
    bus = make_bus(clock)
    first = await bus.accept_session("orders", "AAPL")
    assert first is not None
    clock.advance(31.0)
    second = await bus.accept_session("orders", "AAPL")
    assert second is not None
    await bus.send("orders", [command("cmd-1")])
    assert [m.message_id for m in await second.receive()] == ["cmd-1"]


async def test_remembered_ids_give_the_garbage_collector_nothing_to_walk() -> None:
    """The duplicate window remembers every id sent for its whole length (minutes, at
    thousands of messages a second in a local run): it must not hold a container per
    message, or every full collection walks them all and stalls the event loop."""
    bus = make_bus(ManualClock(), duplicate_window=600.0)
    receiver = await bus.queue_receiver("requests")
    gc.collect()
    before = len(gc.get_objects())

    for i in range(5_000):
        await bus.send("requests", [command(f"req-{i}", None)])
        for message in await receiver.receive(max_count=1):
            await receiver.complete(message)
    gc.collect()

    assert len(gc.get_objects()) - before < 500
    await bus.send("requests", [command("req-42", None)])  # still inside the window
    assert await receiver.receive(max_count=1, max_wait=0.0) == []
