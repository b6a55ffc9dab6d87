"""The composition root: builds every adapter from the settings, once, and nothing at import.

`await bootstrap(settings)` returns the Container the entrypoints hand to the services; the
local run passes its own in-memory bus and local-hub notifier so every component shares them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from shared.adapters import factory
from shared.api_keys import hash_api_key
from shared.config.settings import Settings
from shared.domain.enums import AccountType
from shared.feeds.publisher import FeedPublisher
from shared.ports.bus import Bus
from shared.ports.cache import Cache
from shared.ports.notifier import Notifier
from shared.ports.store import Store
from shared.ports.store_accounts import Account
from shared.ports.store_errors import DuplicateAccount, VersionConflict
from shared.services.background import Background
from shared.services.read_gate import ReadGate

log = logging.getLogger(__name__)

ADMIN_ACCOUNT_ID = "admin"


@dataclass(slots=True)
class Container:
    """Everything the services need. `aclose()` closes what `bootstrap` opened (not what the
    caller passed in). `trust_client_principal`: honour X-MS-CLIENT-PRINCIPAL (only behind
    App Service authentication, which strips the header from client requests)."""

    settings: Settings
    store: Store
    bus: Bus
    cache: Cache
    notifier: Notifier
    feeds: FeedPublisher
    clock: Callable[[], int] = time.time_ns
    trust_client_principal: bool = False
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: Background = field(default_factory=Background)
    read_gate: ReadGate = field(default_factory=ReadGate)

    async def aclose(self) -> None:
        await self.background.drain()  # their writes need the store open
        for close in reversed(self.closers):
            try:
                await close()
            except Exception:  # closing the rest matters more than one failure
                log.exception("closing %s failed", close)
        self.closers.clear()


async def ensure_admin_account(store: Store, api_key: str, now: int) -> None:
    """The `admin` account holds OMS_ADMIN_API_KEY (its hash): created on first start, its
    key hash replaced when the setting changes."""
    key_hash = hash_api_key(api_key)
    account = Account(
        ADMIN_ACCOUNT_ID,
        "Administrator",
        AccountType.PAPER,
        key_hash,
        roles=("admin", "trader"),
        created_at=now,
    )
    for _ in range(5):
        stored = await store.accounts.get(ADMIN_ACCOUNT_ID)
        if stored is None:
            try:
                await store.accounts.create(account)
                return
            except DuplicateAccount:
                continue
        if stored.api_key_hash == key_hash:
            return
        try:
            await store.accounts.update(replace(stored, api_key_hash=key_hash), stored.version)
            return
        except VersionConflict:
            continue


async def bootstrap(
    settings: Settings,
    *,
    store: Store | None = None,
    bus: Bus | None = None,
    cache: Cache | None = None,
    notifier: Notifier | None = None,
    clock: Callable[[], int] | None = None,
    trust_client_principal: bool | None = None,
) -> Container:
    """Build the container: given adapters are used as they are (and not closed by
    `aclose`), missing ones come from the settings."""
    closers: list[Callable[[], Awaitable[None]]] = []
    if store is None:
        store = await factory.store_from_settings(settings)
        closers.append(store.close)
    if bus is None:
        bus = factory.bus_from_settings(settings)
        closers.append(bus.close)
    if cache is None:
        cache = factory.cache_from_settings(settings)
        closers.append(cache.close)
    if notifier is None:
        notifier = factory.notifier_from_settings(settings)
        aclose = getattr(notifier, "aclose", None)
        if aclose is not None:
            closers.append(aclose)
    if trust_client_principal is None:
        # Set by App Service when its authentication is on (it then owns the header).
        trust_client_principal = os.environ.get("WEBSITE_AUTH_ENABLED", "").lower() == "true"
    container = Container(
        settings=settings,
        store=store,
        bus=bus,
        cache=cache,
        notifier=notifier,
        feeds=FeedPublisher(notifier, streams=store.feeds),
        clock=clock or time.time_ns,
        trust_client_principal=trust_client_principal,
        closers=closers,
    )
    if settings.OMS_ADMIN_API_KEY:
        await ensure_admin_account(store, settings.OMS_ADMIN_API_KEY, container.clock())
    return container
