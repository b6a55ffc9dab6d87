"""Build the snapshot store the settings ask for. Opens no connection."""

from __future__ import annotations

from pathlib import Path

from shared.adapters.snapshots_local import FolderSnapshotStore
from shared.config.settings import Settings
from shared.ports.snapshots import SnapshotStore

SNAPSHOTS_FOLDER = "snapshots"


def snapshots_from_settings(settings: Settings) -> SnapshotStore:
    """Blob Storage by SNAPSHOTS_BLOB_SERVICE_URL (managed identity AZURE_CLIENT_ID) or
    SNAPSHOTS_CONNECTION_STRING (Azurite: `UseDevelopmentStorage=true`), else the folder
    OMS_DATA_DIR/snapshots."""
    if settings.SNAPSHOTS_BLOB_SERVICE_URL or settings.SNAPSHOTS_CONNECTION_STRING:
        from shared.adapters.snapshots_blob import BlobSnapshotStore  # the SDK only when used

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
