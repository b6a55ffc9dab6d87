"""The Azure adapter's message mapping and the settings-driven choice of bus (no network)."""

from __future__ import annotations

from azure.servicebus import ServiceBusReceivedMessage
from azure.servicebus._pyamqp.message import Header, Message, Properties

from shared.adapters.bus_azure import AzureServiceBus, from_sdk_message, to_sdk_message
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.factory import bus_from_settings
from shared.config.settings import Settings
from shared.ports.bus import BusMessage


def test_a_sent_message_carries_id_session_and_properties() -> None:
    sdk = to_sdk_message(BusMessage(b"hello", "cmd-1", "AAPL", {"type": "NewOrder", "seq": 3}))
    assert (sdk.message_id, sdk.session_id) == ("cmd-1", "AAPL")
    assert sdk.application_properties == {"type": "NewOrder", "seq": 3}
    assert b"".join(sdk.body) == b"hello"


def test_a_received_message_maps_wire_fields_to_the_port() -> None:
    # What pyamqp hands over: bytes keys and strings, the count of *previous* deliveries.
    wire = Message(
        header=Header(delivery_count=0),
        properties=Properties(message_id=b"cmd-1", group_id=b"AAPL"),
        application_properties={b"type": b"NewOrder", b"seq": 3},
        message_annotations={b"x-opt-sequence-number": 1001},
        data=[b"hel", b"lo"],
    )
    received = from_sdk_message(ServiceBusReceivedMessage(wire, receiver=None))
    assert received == BusMessage(
        b"hello", "cmd-1", "AAPL", {"type": "NewOrder", "seq": 3}, 1, 1001
    )


async def test_settings_pick_the_bus() -> None:
    local = bus_from_settings(
        Settings(
            SERVICEBUS_FULLY_QUALIFIED_NAMESPACE=None,
            SERVICEBUS_CONNECTION_STRING=None,
            ORDERS_QUEUE="o",
            EXECUTIONS_QUEUE="e",
        )
    )
    assert isinstance(local, InMemoryBus)
    await local.send("o", [BusMessage(b"", "cmd-1", "AAPL")])  # the queues exist
    assert await local.accept_session("e") is None

    azure = bus_from_settings(
        Settings(SERVICEBUS_FULLY_QUALIFIED_NAMESPACE="oms-test.servicebus.windows.net")
    )
    assert isinstance(azure, AzureServiceBus)  # built without connecting
    await azure.close()
    by_string = bus_from_settings(
        Settings(
            SERVICEBUS_FULLY_QUALIFIED_NAMESPACE=None,
            SERVICEBUS_CONNECTION_STRING="Endpoint=sb://oms-test.servicebus.windows.net/;"
            "SharedAccessKeyName=k;SharedAccessKey=c2VjcmV0",
        )
    )
    assert isinstance(by_string, AzureServiceBus)
    await by_string.close()


def test_the_trace_context_goes_out_under_the_sdk_keys_and_comes_back_unchanged() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    sent = BusMessage(
        b"{}",
        "cmd-1",
        "AAPL",
        {"kind": "new_order", "traceparent": traceparent, "tracestate": "a=1"},
    )
    sdk = to_sdk_message(sent)
    properties = sdk.application_properties
    assert properties is not None
    assert properties[b"traceparent"] == traceparent and "traceparent" not in properties
    # With its tracing on, the SDK adds its context only where none is: ours stays.
    properties.setdefault(b"traceparent", "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01")
    assert properties[b"traceparent"] == traceparent
    wire = Message(
        header=Header(delivery_count=0),
        properties=Properties(message_id=b"cmd-1", group_id=b"AAPL"),
        application_properties={k if isinstance(k, bytes) else k.encode(): v
                                for k, v in properties.items()},
        message_annotations={b"x-opt-sequence-number": 7},
        data=[b"{}"],
    )  # fmt: skip
    received = from_sdk_message(ServiceBusReceivedMessage(wire, receiver=None))
    assert received.application_properties == sent.application_properties
