"""The one settings model. Every name here is an environment variable (or app setting).

Bicep sets the same names in Azure; `local.settings.json.example` lists them with their
local values. An unset optional setting selects the embedded default adapter.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings read from the environment; field names are the setting names (upper-cased)."""

    # env_ignore_empty: an app setting present but empty ("") means "unset", so Bicep and
    # local.settings.json can list every name and leave the ones that do not apply empty.
    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", frozen=True, env_ignore_empty=True
    )

    # Local run and embedded defaults.
    OMS_DATA_DIR: Path = Field(default=Path(".oms-data"))
    OMS_ADMIN_API_KEY: str | None = None
    OMS_HOST: str = "127.0.0.1"
    OMS_PORT: int = 7071
    OMS_DEMO_MARKET: bool = False
    # The cash a new paper account starts with (a decimal, in the account's currency) unless
    # its creation names another amount.
    OMS_PAPER_STARTING_CASH: Decimal = Decimal("100000")

    # Identity: the user-assigned managed identity's client id (DefaultAzureCredential).
    AZURE_CLIENT_ID: str | None = None

    # Cosmos DB for MongoDB (or any MongoDB). Unset: SQLite in OMS_DATA_DIR.
    MONGODB_URI: str | None = None
    MONGODB_DATABASE: str = "oms"

    # Service Bus. Unset: the in-memory session bus.
    SERVICEBUS_FULLY_QUALIFIED_NAMESPACE: str | None = None
    SERVICEBUS_CONNECTION_STRING: str | None = None
    ORDERS_QUEUE: str = "orders"
    EXECUTIONS_QUEUE: str = "executions"
    ORDER_REQUESTS_QUEUE: str = "order-requests"

    # Redis. Unset: the in-process cache. In Azure the cache has access keys disabled:
    # REDIS_USE_ENTRA_ID makes the adapter authenticate with a Microsoft Entra token for
    # scope https://redis.azure.com/.default (user name = the token's `oid` claim).
    REDIS_URL: str | None = None
    REDIS_USE_ENTRA_ID: bool = False

    # SignalR Service. Unset: the local hub served by the local run.
    SIGNALR_ENDPOINT: str | None = None
    SIGNALR_ACCESS_KEY: str | None = None
    SIGNALR_HUB: str = "oms"

    # Blob Storage for matcher snapshots. Unset: a folder in OMS_DATA_DIR.
    SNAPSHOTS_BLOB_SERVICE_URL: str | None = None
    SNAPSHOTS_CONNECTION_STRING: str | None = None
    SNAPSHOTS_CONTAINER: str = "snapshots"

    # Matcher service.
    MATCHER_MAX_SESSIONS: int = 8
    MATCHER_BATCH_SIZE: int = 256
    MATCHER_SNAPSHOT_EVERY_EVENTS: int = 10_000
    MATCHER_SNAPSHOT_EVERY_SECONDS: float = 60.0
    MATCHER_HEALTH_PORT: int = 8080

    # Venue gateways: each external venue's connection is owned by one gateway, which holds
    # the venue's session on VENUES_QUEUE (session id = venue name) as its lease.
    VENUES_QUEUE: str = "venues"
    GATEWAY_MAX_VENUES: int = 16
    # Where the FIX session stores live (sequence numbers and sent messages): a persistent
    # share in Azure. Unset: OMS_DATA_DIR/gateway.
    GATEWAY_STATE_DIR: Path | None = None
    GATEWAY_HEALTH_PORT: int = 8080

    # Observability.
    # Observability (shared/observability). Logs: one JSON object a line on stderr, or text
    # for a terminal; DEBUG adds a line per order stage. Metrics: the instruments, served by
    # the local run at /api/metrics and exported to Azure Monitor / OTLP when those are set.
    # Traces: to Application Insights with its connection string (Entra ID auth with the
    # app's identity), else over OTLP when the standard OTEL_EXPORTER_OTLP_ENDPOINT is set.
    OMS_LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    OMS_LOG_FORMAT: Literal["json", "text"] = "json"
    OMS_METRICS: bool = True
    APPLICATIONINSIGHTS_CONNECTION_STRING: str | None = None

    @field_validator("OMS_LOG_LEVEL", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("OMS_LOG_FORMAT", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def load_settings() -> Settings:
    """Read the settings from the environment (never at import time)."""
    return Settings()
