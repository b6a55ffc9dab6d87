"""What a Service Bus trigger function sees for a bus message, and the way back."""

from __future__ import annotations

import azure.functions as func

from shared.adapters.bus_functions import from_functions_message, to_functions_message
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.ports.bus import BusMessage

COMMAND = BusMessage(
    body=b'{"type":"NewOrder"}',
    message_id="cmd-42",
    session_id="AAPL",
    application_properties={"type": "NewOrder", "seq": 7, "paper": True},
    delivery_count=2,
    sequence_number=1001,
)


def test_a_trigger_sees_the_message_fields() -> None:
    message = to_functions_message(COMMAND, lock_token="lock-1")
    assert isinstance(message, func.ServiceBusMessage)
    assert message.get_body() == b'{"type":"NewOrder"}'
    assert (message.message_id, message.session_id) == ("cmd-42", "AAPL")
    assert (message.delivery_count, message.sequence_number) == (2, 1001)
    assert message.user_properties == {"type": "NewOrder", "seq": 7, "paper": True}
    assert message.application_properties == message.user_properties
    assert message.lock_token == "lock-1"
    assert message.metadata is not None and message.metadata["MessageId"] == "cmd-42"


def test_converting_there_and_back_keeps_the_message() -> None:
    assert from_functions_message(to_functions_message(COMMAND)) == COMMAND
    plain = BusMessage(body=b"", message_id="req-1")
    assert from_functions_message(to_functions_message(plain)) == plain


def test_a_host_message_with_only_user_properties_converts() -> None:
    from azure.functions.servicebus import ServiceBusMessage

    hosted = ServiceBusMessage(
        body=b"x",
        message_id="req-9",
        application_properties={},
        user_properties={"source": "bot", "nested": {"a": 1}},
        delivery_count=1,
        sequence_number=5,
    )
    converted = from_functions_message(hosted)
    assert converted.application_properties == {"source": "bot", "nested": '{"a": 1}'}
    assert (converted.message_id, converted.session_id, converted.sequence_number) == (
        "req-9",
        None,
        5,
    )


async def test_a_received_message_reaches_a_trigger_unchanged() -> None:
    bus = InMemoryBus({"executions": QueueOptions(requires_session=True)})
    sent = BusMessage(b"fill", "evt-1", "MSFT", {"seq": 3})
    await bus.send("executions", [sent])
    receiver = await bus.accept_session("executions")
    assert receiver is not None
    [received] = await receiver.receive()
    seen = to_functions_message(received)
    assert (seen.get_body(), seen.message_id, seen.session_id) == (b"fill", "evt-1", "MSFT")
    assert (seen.delivery_count, seen.user_properties) == (1, {"seq": 3})


def test_a_trigger_sees_the_trace_context_the_sender_put_on_the_message() -> None:
    traced = BusMessage(
        b"{}",
        "AAPL:1-2",
        "AAPL",
        {
            "first_seq": 1,
            "last_seq": 2,
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "oms-traces": '[["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",{}]]',
        },
    )
    seen = to_functions_message(traced)
    assert seen.application_properties == dict(traced.application_properties)
    assert from_functions_message(seen) == traced
