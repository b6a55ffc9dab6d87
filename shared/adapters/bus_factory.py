"""Build the bus the settings ask for: Azure Service Bus when a namespace or connection string
is set, the in-memory bus otherwise. Opens no connection."""

from __future__ import annotations

from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.config.settings import Settings
from shared.ports.bus import Bus


def memory_queues(settings: Settings) -> dict[str, QueueOptions]:
    """The queues Bicep declares, with the same options, for the in-memory bus."""
    sessions = QueueOptions(requires_session=True, lock_duration=60.0, max_delivery_count=10)
    return {
        settings.ORDERS_QUEUE: sessions,
        settings.EXECUTIONS_QUEUE: sessions,
        settings.ORDER_REQUESTS_QUEUE: QueueOptions(lock_duration=60.0, max_delivery_count=10),
        settings.VENUES_QUEUE: sessions,
    }


def bus_from_settings(settings: Settings) -> Bus:
    """The Azure adapter when SERVICEBUS_FULLY_QUALIFIED_NAMESPACE (managed identity) or
    SERVICEBUS_CONNECTION_STRING is set, else the in-memory bus with the queues Bicep declares."""
    if settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE or settings.SERVICEBUS_CONNECTION_STRING:
        from shared.adapters.bus_azure import AzureServiceBus  # the SDK only when used

        if settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE:
            return AzureServiceBus.from_namespace(
                settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE, settings.AZURE_CLIENT_ID
            )
        assert settings.SERVICEBUS_CONNECTION_STRING is not None
        return AzureServiceBus.from_connection_string(settings.SERVICEBUS_CONNECTION_STRING)
    return InMemoryBus(memory_queues(settings))
