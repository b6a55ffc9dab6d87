"""Every adapter the settings ask for, built in one place: the store, the bus, the cache, the
snapshot store and the notifier.

Each setting switches one piece from its embedded default to the real service; a service's
SDK is imported only when its setting is set. Only `store_from_settings` connects (it opens
the database and prepares it); the others connect on first use.
"""

from __future__ import annotations

from pathlib import Path

from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.adapters.cache_memory import MemoryCache
from shared.adapters.signalr_local import LocalNotifier
from shared.adapters.signalr_off import DiscardingNotifier
from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.config.settings import Settings
from shared.ports.account_feed import AccountFeed
from shared.ports.bus import Bus
from shared.ports.cache import Cache
from shared.ports.notifier import Notifier
from shared.ports.snapshots import SnapshotStore
from shared.ports.store import Store
from shared.signalr_hub.hub import LocalHub

SQLITE_FILE = "oms.sqlite3"
SNAPSHOTS_FOLDER = "snapshots"


async def store_from_settings(settings: Settings) -> Store:
    """Cosmos DB / MongoDB when MONGODB_URI is set, else SQLite at OMS_DATA_DIR/oms.sqlite3."""
    if settings.MONGODB_URI:
        from shared.adapters.mongo.store import open_mongo_store

        return await open_mongo_store(settings.MONGODB_URI, settings.MONGODB_DATABASE)
    from shared.adapters.sqlite.store import open_sqlite_store

    return await open_sqlite_store(Path(settings.OMS_DATA_DIR) / SQLITE_FILE)


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
    """Azure Service Bus when SERVICEBUS_FULLY_QUALIFIED_NAMESPACE (managed identity) or
    SERVICEBUS_CONNECTION_STRING is set, else the in-memory bus with the three queues."""
    if settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE or settings.SERVICEBUS_CONNECTION_STRING:
        from shared.adapters.bus_azure import AzureServiceBus

        if settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE:
            return AzureServiceBus.from_namespace(
                settings.SERVICEBUS_FULLY_QUALIFIED_NAMESPACE, settings.AZURE_CLIENT_ID
            )
        assert settings.SERVICEBUS_CONNECTION_STRING is not None
        return AzureServiceBus.from_connection_string(settings.SERVICEBUS_CONNECTION_STRING)
    return InMemoryBus(memory_queues(settings))


def redis_from_settings(settings: Settings) -> Cache | None:
    """The Redis cache when REDIS_URL is set (Entra ID auth with REDIS_USE_ENTRA_ID), else
    None: for a process whose cache only helps when other processes share it (the matcher)."""
    if not settings.REDIS_URL:
        return None
    from shared.adapters.cache_redis import RedisCache

    return RedisCache.from_url(
        settings.REDIS_URL,
        use_entra_id=settings.REDIS_USE_ENTRA_ID,
        client_id=settings.AZURE_CLIENT_ID,
    )


def cache_from_settings(settings: Settings) -> Cache:
    """Redis when REDIS_URL is set, else the in-process cache."""
    return redis_from_settings(settings) or MemoryCache()


def snapshots_from_settings(settings: Settings) -> SnapshotStore:
    """Blob Storage by SNAPSHOTS_BLOB_SERVICE_URL (managed identity AZURE_CLIENT_ID) or
    SNAPSHOTS_CONNECTION_STRING (Azurite: `UseDevelopmentStorage=true`), else the folder
    OMS_DATA_DIR/snapshots."""
    if settings.SNAPSHOTS_BLOB_SERVICE_URL or settings.SNAPSHOTS_CONNECTION_STRING:
        from shared.adapters.snapshots_blob import BlobSnapshotStore

        if settings.SNAPSHOTS_BLOB_SERVICE_URL:
            return BlobSnapshotStore.from_service_url(
                settings.SNAPSHOTS_BLOB_SERVICE_URL,
                settings.SNAPSHOTS_CONTAINER,
                settings.AZURE_CLIENT_ID,
            )
        assert settings.SNAPSHOTS_CONNECTION_STRING is not None
        return BlobSnapshotStore.from_connection_string(
            settings.SNAPSHOTS_CONNECTION_STRING, settings.SNAPSHOTS_CONTAINER
        )
    return FolderSnapshotStore(Path(settings.OMS_DATA_DIR) / SNAPSHOTS_FOLDER)


def notifier_from_settings(
    settings: Settings, local_hub: LocalHub | None = None, local_endpoint: str | None = None
) -> Notifier:
    """The SignalR Service REST notifier when SIGNALR_ENDPOINT is set, else the in-process
    local hub's when one is given, else one that discards every push.

    With SIGNALR_ENDPOINT and no SIGNALR_ACCESS_KEY, authenticates with Entra ID
    (`DefaultAzureCredential`, user-assigned identity AZURE_CLIENT_ID). The local notifier
    needs the hub and its public endpoint URL (default `http://{OMS_HOST}:{OMS_PORT}/signalr`).
    """
    if settings.SIGNALR_ENDPOINT:
        from shared.adapters.signalr_rest import AccessKeyAuth, EntraIdAuth, SignalRRestNotifier

        auth: AccessKeyAuth | EntraIdAuth
        if settings.SIGNALR_ACCESS_KEY:
            auth = AccessKeyAuth(settings.SIGNALR_ACCESS_KEY)
        else:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential(managed_identity_client_id=settings.AZURE_CLIENT_ID)
            auth = EntraIdAuth(credential)
        return SignalRRestNotifier(settings.SIGNALR_ENDPOINT, settings.SIGNALR_HUB, auth)
    if local_hub is None:
        return DiscardingNotifier()
    endpoint = local_endpoint or f"http://{settings.OMS_HOST}:{settings.OMS_PORT}/signalr"
    return LocalNotifier(local_hub, endpoint, settings.SIGNALR_HUB)


def account_feed_from_settings(
    settings: Settings, notifier: Notifier, local_hub: LocalHub | None = None
) -> AccountFeed | None:
    """How an entrypoint receives an account's live feed: as a SignalR client of SignalR
    Service when SIGNALR_ENDPOINT is set, else in process from the local hub when one is
    given; None when there is no fan-out to listen to."""
    if settings.SIGNALR_ENDPOINT:
        from shared.adapters.feed_signalr import SignalRClientFeed

        return SignalRClientFeed(notifier)
    if local_hub is None:
        return None
    from shared.adapters.feed_local import LocalHubFeed

    return LocalHubFeed(local_hub, settings.SIGNALR_HUB)
