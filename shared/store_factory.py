"""Opens the store the settings ask for: Cosmos DB / MongoDB when MONGODB_URI is set,
else the embedded SQLite database at OMS_DATA_DIR/oms.sqlite3."""

from __future__ import annotations

from pathlib import Path

from shared.adapters.mongo.store import open_mongo_store
from shared.adapters.sqlite.store import open_sqlite_store
from shared.config.settings import Settings
from shared.ports.store import Store

__all__ = ["open_mongo_store", "open_sqlite_store", "store_from_settings"]

SQLITE_FILE = "oms.sqlite3"


async def store_from_settings(settings: Settings) -> Store:
    """Mongo when MONGODB_URI is set, else SQLite in OMS_DATA_DIR."""
    if settings.MONGODB_URI:
        return await open_mongo_store(settings.MONGODB_URI, settings.MONGODB_DATABASE)
    return await open_sqlite_store(Path(settings.OMS_DATA_DIR) / SQLITE_FILE)
