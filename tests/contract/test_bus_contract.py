"""One contract for every bus adapter: the in-memory bus always, Azure Service Bus when
SERVICEBUS_FULLY_QUALIFIED_NAMESPACE or SERVICEBUS_CONNECTION_STRING is set.

On Azure the suite creates two throw-away queues per test (so the identity needs the Service
Bus Data Owner role, or a connection string with Manage rights) and deletes them afterwards.
Time passes for real there (lock 5 s, duplicate window 20 s: the service minimums); in memory
a hand-driven clock moves instead.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from shared.adapters.bus_faults import ManualClock
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.ports.bus import (
    DEAD_LETTER_MAX_DELIVERY,
    Bus,
    BusMessage,
    MessageReceiver,
    SessionLockLostError,
)

AZURE_CONFIGURED = bool(
    os.environ.get("SERVICEBUS_FULLY_QUALIFIED_NAMESPACE")
    or os.environ.get("SERVICEBUS_CONNECTION_STRING")
)


@dataclass
class Harness:
    """A bus with a session queue and a plain queue, and a way to let time pass."""

    bus: Bus
    sessions: str
    plain: str
    lock_duration: float
    max_delivery_count: int
    duplicate_window: float
    wait: float  # how long a receive or accept may wait for something that should be there
    advance: Callable[[float], Awaitable[None]]


async def _memory_harness() -> AsyncIterator[Harness]:
    clock = ManualClock()

    def options(requires_session: bool) -> QueueOptions:
        return QueueOptions(requires_session, 30.0, 3, duplicate_detection_window=60.0)

    bus = InMemoryBus({"sessions": options(True), "plain": options(False)}, clock=clock)

    async def advance(seconds: float) -> None:
        clock.advance(seconds)

    yield Harness(bus, "sessions", "plain", 30.0, 3, 60.0, 0.0, advance)
    await bus.close()


async def _azure_harness() -> AsyncIterator[Harness]:
    from azure.identity.aio import DefaultAzureCredential
    from azure.servicebus.aio.management import ServiceBusAdministrationClient

    from shared.adapters.factory import bus_from_settings
    from shared.config.settings import load_settings

    settings = load_settings()
    credential = None
    if settings.SERVICEBUS_CONNECTION_STRING:
        admin = ServiceBusAdministrationClient.from_connection_string(
            settings.SERVICEBUS_CONNECTION_STRING
        )
    else:
        assert settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE
        credential = DefaultAzureCredential(managed_identity_client_id=settings.AZURE_CLIENT_ID)
        admin = ServiceBusAdministrationClient(
            settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE, credential
        )
    prefix = f"contract-{uuid.uuid4().hex[:8]}"
    names = {"sessions": f"{prefix}-sessions", "plain": f"{prefix}-plain"}
    for kind, name in names.items():
        await admin.create_queue(
            name,
            requires_session=kind == "sessions",
            lock_duration=datetime.timedelta(seconds=5),
            max_delivery_count=3,
            requires_duplicate_detection=True,
            duplicate_detection_history_time_window=datetime.timedelta(seconds=20),
            auto_delete_on_idle=datetime.timedelta(hours=1),  # a crashed run cleans up itself
        )
    bus = bus_from_settings(settings)
    try:
        yield Harness(bus, names["sessions"], names["plain"], 5.0, 3, 20.0, 5.0, asyncio.sleep)
    finally:
        await bus.close()
        for name in names.values():
            await admin.delete_queue(name)
        await admin.close()
        if credential is not None:
            await credential.close()


@pytest.fixture(
    params=[
        "memory",
        pytest.param(
            "azure",
            marks=pytest.mark.skipif(
                not AZURE_CONFIGURED,
                reason="Azure Service Bus not configured: set "
                "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE or SERVICEBUS_CONNECTION_STRING",
            ),
        ),
    ]
)
async def h(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    factory = _memory_harness if request.param == "memory" else _azure_harness
    async for h in factory():
        yield h


def msg(message_id: str, session_id: str | None = None, body: bytes | None = None) -> BusMessage:
    return BusMessage(
        body=body if body is not None else message_id.encode(),
        message_id=message_id,
        session_id=session_id,
        application_properties={"kind": "test"},
    )


async def receive_all(receiver: MessageReceiver, wait: float, expected: int) -> list[BusMessage]:
    """Receive until `expected` messages arrived or a receive comes back empty."""
    out: list[BusMessage] = []
    while len(out) < expected:
        batch = await receiver.receive(max_count=expected - len(out), max_wait=wait)
        if not batch:
            break
        out.extend(batch)
    return out


async def test_each_session_delivers_in_send_order_under_concurrent_senders(h: Harness) -> None:
    instruments = ["AAPL", "MSFT", "TSLA"]

    async def sender(name: str) -> None:
        for i in range(12):
            instrument = instruments[i % len(instruments)]
            await h.bus.send(h.sessions, [msg(f"{name}-{i}", instrument, f"{name}:{i}".encode())])
            await asyncio.sleep(0)

    async def batch_sender() -> None:
        batch = [msg(f"batch-{i}", "AAPL", f"batch:{i}".encode()) for i in range(10)]
        await h.bus.send(h.sessions, batch)

    await asyncio.gather(*(sender(f"s{n}") for n in range(4)), batch_sender())

    received: dict[str, list[BusMessage]] = {}
    for _ in instruments:
        receiver = await h.bus.accept_session(h.sessions, max_wait=h.wait)
        assert receiver is not None
        expected = 26 if receiver.session_id == "AAPL" else 16
        messages = await receive_all(receiver, h.wait, expected)
        for message in messages:
            await receiver.complete(message)
        received[receiver.session_id] = messages
        await receiver.close()

    assert sorted(received) == instruments
    for instrument, messages in received.items():
        assert all(m.session_id == instrument for m in messages)
        sequence_numbers = [m.sequence_number for m in messages]
        assert sequence_numbers == sorted(sequence_numbers)
        bodies = [m.body.decode().split(":") for m in messages]
        for name in {sender for sender, _ in bodies}:
            positions = [int(i) for sender, i in bodies if sender == name]
            assert positions == sorted(positions), f"{name} reordered in {instrument}"
    assert len(received["AAPL"]) == 26  # 4 senders x 4 + the batch of 10
    assert await h.bus.accept_session(h.sessions, max_wait=h.wait) is None


async def test_two_receivers_never_hold_the_same_session(h: Harness) -> None:
    sessions = [f"S{i}" for i in range(4)]
    await h.bus.send(h.sessions, [msg(f"{s}-{j}", s) for s in sessions for j in range(2)])

    accepted = await asyncio.gather(
        *(h.bus.accept_session(h.sessions, max_wait=h.wait) for _ in range(8))
    )
    holders = [r for r in accepted if r is not None]
    assert sorted(r.session_id for r in holders) == sessions
    assert await h.bus.accept_session(h.sessions, "S0", max_wait=h.wait) is None

    s0 = next(r for r in holders if r.session_id == "S0")
    await h.bus.send(h.sessions, [msg("S0-late", "S0")])
    for receiver in holders:
        messages = await receive_all(receiver, h.wait, 3 if receiver is s0 else 2)
        assert {m.session_id for m in messages} == {receiver.session_id}
        assert len(messages) == (3 if receiver is s0 else 2)
        for message in messages:
            await receiver.complete(message)
    await s0.close()
    again = await h.bus.accept_session(h.sessions, "S0", max_wait=h.wait)
    assert again is not None and again.session_id == "S0"
    for receiver in [*holders, again]:
        await receiver.close()


async def test_an_expired_lock_hands_the_session_and_its_unsettled_messages_on(
    h: Harness,
) -> None:
    await h.bus.send(h.sessions, [msg(f"cmd-{i}", "AAPL") for i in range(3)])
    first = await h.bus.accept_session(h.sessions, max_wait=h.wait)
    assert first is not None
    messages = await receive_all(first, h.wait, 3)
    await first.complete(messages[0])

    await h.advance(h.lock_duration + 1.0)  # the first receiver stalls and stops renewing

    second = await h.bus.accept_session(h.sessions, max_wait=h.wait)
    assert second is not None and second.session_id == "AAPL"
    again = await receive_all(second, h.wait, 3)
    assert [m.message_id for m in again] == ["cmd-1", "cmd-2"]
    assert [m.delivery_count for m in again] == [2, 2]
    with pytest.raises(SessionLockLostError):
        await first.complete(messages[1])
    for message in again:
        await second.complete(message)
    await second.close()
    await first.close()


async def test_renewing_the_lock_keeps_the_session(h: Harness) -> None:
    await h.bus.send(h.sessions, [msg("cmd-1", "AAPL"), msg("cmd-2", "MSFT")])
    manual = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    auto = await h.bus.accept_session(
        h.sessions, "MSFT", max_wait=h.wait, auto_renew_for=h.lock_duration * 4
    )
    assert manual is not None and auto is not None
    [aapl] = await receive_all(manual, h.wait, 1)
    [msft] = await receive_all(auto, h.wait, 1)

    await h.advance(h.lock_duration * 0.6)
    await manual.renew_lock()
    await h.advance(h.lock_duration * 0.6)

    assert await h.bus.accept_session(h.sessions, max_wait=h.wait) is None
    await manual.complete(aapl)
    await auto.complete(msft)
    await manual.close()
    await auto.close()


async def test_a_message_past_the_max_delivery_count_is_dead_lettered(h: Harness) -> None:
    await h.bus.send(h.sessions, [msg("poison", "AAPL"), msg("next", "AAPL")])
    counts = []
    for _ in range(h.max_delivery_count):
        receiver = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
        assert receiver is not None
        [message] = await receive_all(receiver, h.wait, 1)
        assert message.message_id == "poison"
        counts.append(message.delivery_count)
        await receiver.abandon(message)
        await receiver.close()
    assert counts == list(range(1, h.max_delivery_count + 1))

    receiver = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    assert receiver is not None
    [message] = await receive_all(receiver, h.wait, 1)
    assert message.message_id == "next"  # the poison message no longer blocks the session
    await receiver.complete(message)
    await receiver.close()

    [dead] = await h.bus.dead_letters(h.sessions)
    assert dead.message.message_id == "poison"
    assert dead.message.body == b"poison"
    assert dead.reason == DEAD_LETTER_MAX_DELIVERY


async def test_a_dead_lettered_message_keeps_its_reason(h: Harness) -> None:
    await h.bus.send(h.plain, [msg("bad-request")])
    receiver = await h.bus.queue_receiver(h.plain)
    [message] = await receive_all(receiver, h.wait, 1)
    await receiver.dead_letter(message, "UNKNOWN_INSTRUMENT", "no instrument 'XXXX'")
    await receiver.close()

    [dead] = await h.bus.dead_letters(h.plain)
    assert (dead.message.message_id, dead.reason, dead.description) == (
        "bad-request",
        "UNKNOWN_INSTRUMENT",
        "no instrument 'XXXX'",
    )
    assert dead.message.application_properties == {"kind": "test"}


async def test_a_duplicate_id_is_dropped_inside_the_window_and_delivered_after(
    h: Harness,
) -> None:
    await h.bus.send(h.sessions, [msg("cmd-1", "AAPL", b"first")])
    await h.bus.send(h.sessions, [msg("cmd-1", "AAPL", b"resent"), msg("cmd-2", "AAPL")])
    receiver = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    assert receiver is not None
    messages = await receive_all(receiver, h.wait, 3)
    assert [m.body for m in messages] == [b"first", b"cmd-2"]
    for message in messages:
        await receiver.complete(message)
    await receiver.close()

    await h.advance(h.duplicate_window + 5.0)
    await h.bus.send(h.sessions, [msg("cmd-1", "AAPL", b"much later")])
    receiver = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    assert receiver is not None
    assert [m.body for m in await receive_all(receiver, h.wait, 1)] == [b"much later"]
    await receiver.close()


async def test_session_state_survives_a_change_of_receiver(h: Harness) -> None:
    first = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    assert first is not None
    assert await first.get_state() is None
    await first.set_state(b"seq=7")
    await first.close()

    second = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    assert second is not None
    assert await second.get_state() == b"seq=7"
    await second.set_state(b"seq=9")
    await h.advance(h.lock_duration + 1.0)  # lost, not closed

    third = await h.bus.accept_session(h.sessions, "AAPL", max_wait=h.wait)
    assert third is not None
    assert await third.get_state() == b"seq=9"
    await third.close()
    await second.close()


async def test_a_plain_queue_redelivers_what_a_consumer_abandons(h: Harness) -> None:
    await h.bus.send(h.plain, [msg("req-1"), msg("req-2")])
    first = await h.bus.queue_receiver(h.plain)
    messages = await receive_all(first, h.wait, 2)
    assert [m.message_id for m in messages] == ["req-1", "req-2"]
    await first.complete(messages[0])
    await first.abandon(messages[1])

    second = await h.bus.queue_receiver(h.plain)
    [again] = await receive_all(second, h.wait, 1)
    assert (again.message_id, again.delivery_count) == ("req-2", 2)
    await second.complete(again)
    assert await second.receive(max_count=5, max_wait=h.wait) == []
    await first.close()
    await second.close()


async def test_the_trace_context_of_a_message_reaches_its_receiver_unchanged(h: Harness) -> None:
    # Every adapter carries the W3C context and the batch's list of traced commands.
    properties = {
        "kind": "new_order",
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tracestate": "oms=1",
        "oms-traces": '[["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",{}]]',
    }
    await h.bus.send(h.sessions, [BusMessage(b"traced", "t-1", "S1", properties)])
    receiver = await h.bus.accept_session(h.sessions, "S1", max_wait=h.wait)
    assert receiver is not None
    (received,) = await receive_all(receiver, h.wait, 1)
    assert dict(received.application_properties) == properties
    await receiver.complete(received)
    await receiver.close()
