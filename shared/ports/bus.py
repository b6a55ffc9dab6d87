"""The message bus port: session queues (one session = one instrument) and plain queues.

Production runs on Azure Service Bus; the local run and the tests on the in-memory bus.
Both give the same guarantees: FIFO within a session, one receiver per session at a time,
peek-lock with a delivery count and a dead-letter queue, duplicate detection on message id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

PropertyValue = str | int | float | bool | None
"""Application property values that survive every adapter (AMQP primitives, JSON-able)."""

DEAD_LETTER_MAX_DELIVERY = "MaxDeliveryCountExceeded"
"""The reason Service Bus gives a message it dead-letters after too many deliveries."""


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One message. Senders set the first four fields; the bus sets the last two on delivery.

    `message_id` is the duplicate-detection key (the matcher uses the command id);
    `session_id` is required on a session queue (the instrument symbol) and None otherwise.
    `application_properties` also carry the trace context of a traced command (W3C
    `traceparent` and `tracestate`, and `oms-traces` on an event batch: see
    shared.observability.tracing); every adapter delivers them unchanged.
    """

    body: bytes
    message_id: str
    session_id: str | None = None
    application_properties: Mapping[str, PropertyValue] = field(default_factory=dict)
    delivery_count: int = 0
    sequence_number: int = 0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead-lettered message with the reason it was set aside. It stays until removed."""

    message: BusMessage
    reason: str
    description: str = ""


class BusError(Exception):
    """Base class of the errors the bus port raises."""


class QueueNotFoundError(BusError):
    """The queue does not exist (or is not the kind of queue the call needs)."""


class SessionLockLostError(BusError):
    """The session lock expired or was released; another receiver may hold the session.

    Messages received under the lost lock will be delivered again; settle nothing more.
    """


class MessageLockLostError(BusError):
    """The message lock expired or the message was already settled."""


class MessageReceiver(Protocol):
    """Peek-lock receiving: every received message must be completed, abandoned or
    dead-lettered, or it is delivered again after its lock expires."""

    async def receive(self, max_count: int = 1, max_wait: float = 0.0) -> list[BusMessage]:
        """Return up to `max_count` messages in order, waiting up to `max_wait` seconds for
        the first one; an empty list when none arrived."""
        ...

    async def complete(self, message: BusMessage) -> None:
        """Remove a processed message for good."""
        ...

    async def abandon(self, message: BusMessage) -> None:
        """Give the message back for redelivery (its delivery count goes up; past the
        queue's max delivery count it is dead-lettered with DEAD_LETTER_MAX_DELIVERY)."""
        ...

    async def dead_letter(self, message: BusMessage, reason: str, description: str = "") -> None:
        """Move a message that cannot be processed (a poison message) to the dead-letter
        queue, with a stable reason code and a human description."""
        ...

    async def close(self) -> None:
        """Stop receiving; unsettled messages (and a session) become available again."""
        ...


class QueueReceiver(MessageReceiver, Protocol):
    """A competing-consumer receiver on a plain (session-less) queue."""


class SessionReceiver(MessageReceiver, Protocol):
    """A receiver holding the lock of one session: it alone receives that session's
    messages, in the order they were sent, until it closes or the lock expires."""

    @property
    def session_id(self) -> str:
        """The session this receiver holds."""
        ...

    async def get_state(self) -> bytes | None:
        """Return the session state (None if never set); it outlives any one receiver."""
        ...

    async def set_state(self, state: bytes | None) -> None:
        """Replace the session state."""
        ...

    async def renew_lock(self) -> None:
        """Extend the session lock by the queue's lock duration from now.

        Raises SessionLockLostError if the lock was already lost."""
        ...


class Bus(Protocol):
    """Sending, receiving and dead-letter inspection on named queues."""

    async def send(self, queue: str, messages: Sequence[BusMessage]) -> None:
        """Send messages in order (one batch where the queue allows). A message whose id
        was already sent to the queue within the duplicate-detection window is dropped."""
        ...

    async def accept_session(
        self,
        queue: str,
        session_id: str | None = None,
        *,
        max_wait: float = 0.0,
        auto_renew_for: float | None = None,
    ) -> SessionReceiver | None:
        """Lock a session of a session queue: the named one, or (session_id None) the next
        one with messages that no live receiver holds. Wait up to `max_wait` seconds; None
        when no session could be locked. With `auto_renew_for`, the lock is renewed
        automatically for that many seconds (AutoLockRenewer on Azure)."""
        ...

    async def queue_receiver(self, queue: str) -> QueueReceiver:
        """Open a peek-lock receiver on a plain queue."""
        ...

    async def dead_letters(self, queue: str, max_count: int = 100) -> list[DeadLetter]:
        """List (without removing) up to `max_count` dead-lettered messages of a queue,
        oldest first."""
        ...

    async def close(self) -> None:
        """Close every sender, receiver and connection the bus opened."""
        ...
