"""Conversion between the port's `BusMessage` and the Functions `ServiceBusMessage`.

In Azure the Functions host hands a Service Bus trigger a `func.ServiceBusMessage` built from
the trigger metadata. The local host's dispatcher reads the in-memory bus and must hand the
same trigger functions the same object: `to_functions_message` builds the host's trigger
metadata and decodes it with the library's own converter, so a trigger sees identical fields
in both places. `from_functions_message` goes back, for code that works on the port's type.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import azure.functions as func
from azure.functions.meta import Datum
from azure.functions.servicebus import ServiceBusMessage, ServiceBusMessageInConverter

from shared.ports.bus import BusMessage, PropertyValue


def _primitive(value: Any) -> PropertyValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, default=str)  # nested values from other producers: keep the text


def to_functions_message(
    message: BusMessage,
    *,
    enqueued_time_utc: datetime.datetime | None = None,
    lock_token: str | None = None,
) -> ServiceBusMessage:
    """The `func.ServiceBusMessage` the Functions host would pass a trigger for `message`."""
    properties = json.dumps(dict(message.application_properties))
    metadata: dict[str, Datum] = {
        "MessageId": Datum(message.message_id, "string"),
        "DeliveryCount": Datum(message.delivery_count, "int"),
        "SequenceNumber": Datum(message.sequence_number, "int"),
        "EnqueuedSequenceNumber": Datum(message.sequence_number, "int"),
        # The host fills both names with the message's application properties.
        "UserProperties": Datum(properties, "json"),
        "ApplicationProperties": Datum(properties, "json"),
    }
    if message.session_id is not None:
        metadata["SessionId"] = Datum(message.session_id, "string")
    if lock_token is not None:
        metadata["LockToken"] = Datum(lock_token, "string")
    if enqueued_time_utc is not None:
        metadata["EnqueuedTimeUtc"] = Datum(enqueued_time_utc.isoformat(), "string")
    decoded = ServiceBusMessageInConverter.decode(
        Datum(message.body, "bytes"), trigger_metadata=metadata
    )
    assert isinstance(decoded, ServiceBusMessage)  # one message in, one message out
    return decoded


def from_functions_message(message: func.ServiceBusMessage) -> BusMessage:
    """The port message for a message a Service Bus trigger received."""
    properties = message.application_properties or message.user_properties or {}
    return BusMessage(
        body=message.get_body(),
        message_id=message.message_id or "",
        session_id=message.session_id,
        application_properties={str(k): _primitive(v) for k, v in properties.items()},
        delivery_count=message.delivery_count or 0,
        sequence_number=message.sequence_number or message.enqueued_sequence_number or 0,
    )
