"""The instrument repository port: reference data and trading state per symbol."""

from __future__ import annotations

from typing import Protocol

from shared.domain.instrument import Instrument


class InstrumentRepository(Protocol):
    """Instruments keyed by symbol."""

    async def upsert(self, instrument: Instrument) -> None:
        """Store the instrument, replacing any stored one with the same symbol."""
        ...

    async def get(self, symbol: str) -> Instrument | None:
        """The instrument, or None."""
        ...

    async def list_instruments(self) -> list[Instrument]:
        """Every instrument, by symbol."""
        ...
