"""The Azure Service Bus adapter of the `Bus` port, on `azure.servicebus.aio`.

Connects by fully qualified namespace with `DefaultAzureCredential` (the user-assigned managed
identity in Azure) or by connection string. Sessions come from `NEXT_AVAILABLE_SESSION` (or a
named session) and an `AutoLockRenewer` keeps them; the message id is always set so the
queue's duplicate detection absorbs resends. Transient errors are retried with exponential
back-off on top of the SDK's own retries; a retried batch may resend messages that already
went, which duplicate detection drops.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential
from azure.servicebus import (
    NEXT_AVAILABLE_SESSION,
    ServiceBusMessage,
    ServiceBusReceivedMessage,
    ServiceBusSubQueue,
)
from azure.servicebus import exceptions as sb_errors
from azure.servicebus.aio import (
    AutoLockRenewer,
    ServiceBusClient,
    ServiceBusReceiver,
    ServiceBusSender,
)

from shared.observability import metrics
from shared.ports.bus import (
    BusMessage,
    DeadLetter,
    MessageLockLostError,
    PropertyValue,
    QueueNotFoundError,
    SessionLockLostError,
)

T = TypeVar("T")

_TRANSIENT: tuple[type[Exception], ...] = (
    sb_errors.ServiceBusConnectionError,
    sb_errors.ServiceBusCommunicationError,
    sb_errors.ServiceBusServerBusyError,
    sb_errors.MessagingEntityDisabledError,
)
_MIN_WAIT = 1.0  # seconds: the service cannot answer "nothing there" faster than a round trip


async def _retrying(
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    base_delay: float = 0.5,
    transient: tuple[type[Exception], ...] = _TRANSIENT,
) -> T:
    """Run `operation`, retrying transient errors with jittered exponential back-off."""
    for attempt in range(attempts):
        try:
            return await operation()
        except transient:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(base_delay * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")


@contextmanager
def _translated(queue: str) -> Iterator[None]:
    """Turn SDK errors into the port's errors."""
    try:
        yield
    except sb_errors.SessionLockLostError as error:
        raise SessionLockLostError(str(error)) from error
    except (sb_errors.MessageLockLostError, sb_errors.MessageAlreadySettled) as error:
        raise MessageLockLostError(str(error)) from error
    except sb_errors.MessagingEntityNotFoundError as error:
        raise QueueNotFoundError(f"no queue named {queue!r}") from error


# Trace-context properties go out under bytes keys, the SDK's own: with the SDK's tracing on
# (the Functions worker's Azure Monitor setup enables it), it adds `traceparent` only where
# absent, so the message keeps ours instead of carrying the key twice.
_SDK_KEYS = {"traceparent": b"traceparent", "tracestate": b"tracestate"}


def to_sdk_message(message: BusMessage) -> ServiceBusMessage:
    """The SDK message to send for a port message."""
    properties: dict[str | bytes, Any] = {
        _SDK_KEYS.get(k, k): v for k, v in message.application_properties.items()
    }
    return ServiceBusMessage(
        body=message.body,
        message_id=message.message_id,
        session_id=message.session_id,
        application_properties=properties or None,
    )


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


def _body_bytes(body: Any) -> bytes:
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return b"".join(bytes(part) for part in body)


def from_sdk_message(message: ServiceBusReceivedMessage) -> BusMessage:
    """The port message for a received SDK message."""
    properties: dict[str, PropertyValue] = {
        str(_text(key)): _text(value)
        for key, value in (message.application_properties or {}).items()
    }
    return BusMessage(
        body=_body_bytes(message.body),
        message_id=str(message.message_id or ""),
        session_id=message.session_id,
        application_properties=properties,
        # The wire carries prior failed attempts; like .NET and Java, count this delivery too.
        delivery_count=(message.delivery_count or 0) + 1,
        sequence_number=message.sequence_number or 0,
    )


def _session_runs(messages: Sequence[BusMessage]) -> Iterator[list[BusMessage]]:
    """Split into runs of one session each: a batch to a partitioned entity must not mix
    sessions, and runs keep each session's order."""
    run: list[BusMessage] = []
    for message in messages:
        if run and run[-1].session_id != message.session_id:
            yield run
            run = []
        run.append(message)
    if run:
        yield run


class _AzureReceiver:
    """Settlement shared by session and queue receivers: keeps the SDK message per
    sequence number, since Service Bus settles by the received object's lock token."""

    def __init__(self, queue: str, receiver: ServiceBusReceiver) -> None:
        self._queue = queue
        self._receiver = receiver
        self._inflight: dict[int, ServiceBusReceivedMessage] = {}

    def _raw(self, message: BusMessage) -> ServiceBusReceivedMessage:
        raw = self._inflight.pop(message.sequence_number, None)
        if raw is None:
            raise MessageLockLostError(f"message {message.message_id!r} is already settled")
        return raw

    async def receive(self, max_count: int = 1, max_wait: float = 0.0) -> list[BusMessage]:
        with _translated(self._queue):
            received = await self._receiver.receive_messages(
                max_message_count=max_count, max_wait_time=max(max_wait, _MIN_WAIT)
            )
        out = []
        for raw in received:
            message = from_sdk_message(raw)
            self._inflight[message.sequence_number] = raw
            out.append(message)
        return out

    async def complete(self, message: BusMessage) -> None:
        with _translated(self._queue):
            await self._receiver.complete_message(self._raw(message))

    async def abandon(self, message: BusMessage) -> None:
        with _translated(self._queue):
            await self._receiver.abandon_message(self._raw(message))

    async def dead_letter(self, message: BusMessage, reason: str, description: str = "") -> None:
        with _translated(self._queue):
            await self._receiver.dead_letter_message(
                self._raw(message), reason=reason, error_description=description
            )
        # Service Bus also dead-letters past the max delivery count: its own metric counts those.
        metrics.dead_lettered(self._queue, reason)

    async def close(self) -> None:
        self._inflight.clear()
        await self._receiver.close()


class AzureQueueReceiver(_AzureReceiver):
    """A peek-lock receiver on a plain queue."""


class AzureSessionReceiver(_AzureReceiver):
    """A receiver holding one session's lock."""

    @property
    def session_id(self) -> str:
        return self._receiver.session.session_id

    async def get_state(self) -> bytes | None:
        with _translated(self._queue):
            state = await self._receiver.session.get_state()
        return bytes(state) if state is not None else None

    async def set_state(self, state: bytes | None) -> None:
        with _translated(self._queue):
            await self._receiver.session.set_state(state)

    async def renew_lock(self) -> None:
        with _translated(self._queue):
            await self._receiver.session.renew_lock()


class AzureServiceBus:
    """The `Bus` port on Azure Service Bus. Opens connections lazily, on first use."""

    def __init__(
        self, client: ServiceBusClient, credential: AsyncTokenCredential | None = None
    ) -> None:
        self._client = client
        self._credential = credential
        self._senders: dict[str, ServiceBusSender] = {}
        self._renewer = AutoLockRenewer()

    @classmethod
    def from_namespace(
        cls, fully_qualified_namespace: str, managed_identity_client_id: str | None = None
    ) -> AzureServiceBus:
        """Connect with Entra ID: the managed identity in Azure, a developer login locally."""
        credential = DefaultAzureCredential(managed_identity_client_id=managed_identity_client_id)
        return cls(ServiceBusClient(fully_qualified_namespace, credential), credential)

    @classmethod
    def from_connection_string(cls, connection_string: str) -> AzureServiceBus:
        """Connect with a SAS connection string (local development against a namespace)."""
        return cls(ServiceBusClient.from_connection_string(connection_string))

    async def send(self, queue: str, messages: Sequence[BusMessage]) -> None:
        if any(not m.message_id for m in messages):
            raise ValueError("every message needs a message_id")
        sender = self._senders.get(queue)
        if sender is None:
            sender = self._senders[queue] = self._client.get_queue_sender(queue)
        for run in _session_runs(messages):
            sdk_messages = [to_sdk_message(m) for m in run]

            async def send_run(sdk_messages: list[ServiceBusMessage] = sdk_messages) -> None:
                batch = await sender.create_message_batch()
                for sdk_message in sdk_messages:
                    try:
                        batch.add_message(sdk_message)
                    except sb_errors.MessageSizeExceededError:
                        if len(batch) == 0:
                            raise
                        await sender.send_messages(batch)
                        batch = await sender.create_message_batch()
                        batch.add_message(sdk_message)
                if len(batch):
                    await sender.send_messages(batch)

            with _translated(queue):
                await _retrying(send_run, transient=(*_TRANSIENT, sb_errors.OperationTimeoutError))

    async def accept_session(
        self,
        queue: str,
        session_id: str | None = None,
        *,
        max_wait: float = 0.0,
        auto_renew_for: float | None = None,
    ) -> AzureSessionReceiver | None:
        async def accept() -> ServiceBusReceiver | None:
            receiver = self._client.get_queue_receiver(
                queue,
                session_id=NEXT_AVAILABLE_SESSION if session_id is None else session_id,
                max_wait_time=max(max_wait, _MIN_WAIT),
            )
            try:
                await receiver.__aenter__()
            except (sb_errors.OperationTimeoutError, sb_errors.SessionCannotBeLockedError):
                await receiver.close()
                return None  # no session free within max_wait, or the named one is held
            except BaseException:
                await receiver.close()
                raise
            return receiver

        with _translated(queue):
            receiver = await _retrying(accept)
        if receiver is None:
            return None
        if auto_renew_for is not None:
            self._renewer.register(
                receiver, receiver.session, max_lock_renewal_duration=auto_renew_for
            )
        return AzureSessionReceiver(queue, receiver)

    async def queue_receiver(self, queue: str) -> AzureQueueReceiver:
        return AzureQueueReceiver(queue, self._client.get_queue_receiver(queue))

    async def dead_letters(self, queue: str, max_count: int = 100) -> list[DeadLetter]:
        out: list[DeadLetter] = []
        async with self._dead_letter_receiver(queue) as receiver:
            next_sequence = 0
            while len(out) < max_count:
                with _translated(queue):
                    peeked = await receiver.peek_messages(
                        max_message_count=max_count - len(out), sequence_number=next_sequence
                    )
                if not peeked:
                    break
                for raw in peeked:
                    out.append(
                        DeadLetter(
                            from_sdk_message(raw),
                            raw.dead_letter_reason or "",
                            raw.dead_letter_error_description or "",
                        )
                    )
                next_sequence = (peeked[-1].sequence_number or 0) + 1
        return out

    @asynccontextmanager
    async def _dead_letter_receiver(self, queue: str) -> AsyncIterator[ServiceBusReceiver]:
        receiver = self._client.get_queue_receiver(queue, sub_queue=ServiceBusSubQueue.DEAD_LETTER)
        try:
            yield receiver
        finally:
            await receiver.close()

    async def close(self) -> None:
        await self._renewer.close()
        for sender in self._senders.values():
            await sender.close()
        self._senders.clear()
        await self._client.close()
        if self._credential is not None:
            await self._credential.close()
