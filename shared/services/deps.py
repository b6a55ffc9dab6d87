"""What the services need from the composition root (shared.bootstrap.Container has it all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from shared.config.settings import Settings
from shared.feeds.publisher import FeedPublisher
from shared.ports.bus import Bus
from shared.ports.cache import Cache
from shared.ports.store import Store
from shared.services.background import Background


class Deps(Protocol):
    """Adapters and the clock (nanoseconds since the epoch) the service layer works with."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def cache(self) -> Cache: ...

    @property
    def feeds(self) -> FeedPublisher: ...

    @property
    def clock(self) -> Callable[[], int]: ...

    @property
    def background(self) -> Background: ...
