"""The instrument repository port: reference data and trading state per symbol."""

from __future__ import annotations

from typing import Protocol

from shared.domain.instrument import Instrument


class InstrumentRepository(Protocol):
    """Instruments keyed by symbol. `version` is the optimistic-concurrency counter: every
    change is a conditional write, so two writers never lose each other's changes."""

    async def create(self, instrument: Instrument) -> None:
        """Store a new instrument (as given, normally version 0), only if its symbol is
        free: DuplicateInstrument otherwise, and nothing is written."""
        ...

    async def update(self, instrument: Instrument, expected_version: int) -> Instrument:
        """Write `instrument` if the stored version is still `expected_version`; returns it
        as stored (version + 1). Raises VersionConflict when another writer got there first
        (re-read and retry) and NotFound when the instrument does not exist."""
        ...

    async def get(self, symbol: str) -> Instrument | None:
        """The instrument, or None."""
        ...

    async def list_instruments(self) -> list[Instrument]:
        """Every instrument, by symbol."""
        ...
