"""The per-instrument state machine the service runs, behind a small Protocol.

`InstrumentVenues`: the matching engine, and the paper fill simulator for paper accounts
(`NewOrder.venue == "paper"`), sharing one sequence. A snapshot records which kind it holds.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from matcher.engine.venues import InstrumentVenues
from shared.domain.commands import Command, NewOrderGroup, RecordOutcome
from shared.domain.events import Event, VenueRequestIssued

Levels = list[tuple[int, int, int]]
VENUES = "venues"


class Venue(Protocol):
    """One instrument: deterministic, no I/O; the same commands give the same events."""

    @property
    def seq(self) -> int:
        """The last instrument sequence number handed out."""
        ...

    @property
    def last_px(self) -> int:
        """The last trade price in ticks (0: none yet)."""
        ...

    def handle(self, command: Command, out: list[Event]) -> None:
        """Apply one command; append the events it caused to `out`."""
        ...

    def depth(self, levels: int) -> tuple[Levels, Levels]:
        """L2: the best bid and ask levels as (price, quantity, order count)."""
        ...

    def snapshot(self) -> dict[str, object]:
        """The whole state as JSON-able data."""
        ...

    def state_hash(self) -> str:
        """Equal hashes mean equal states."""
        ...

    def outstanding_venue_requests(self) -> list[VenueRequestIssued]:
        """Requests to external venues not answered yet (a recovery sends them again)."""
        ...


def outcome_record(command: Command, reason: str) -> RecordOutcome:
    """The RecordOutcome journaled in place of `command` (same id and time); of a
    contingent group, naming every order of it (each is answered, and rejected)."""
    if isinstance(command, NewOrderGroup) and command.orders:
        head = command.orders[0]
        return RecordOutcome(
            command.command_id,
            command.ts,
            command.symbol,
            command.KIND,
            head.order_id,
            head.account_id,
            reason,
            " ".join(order.order_id for order in command.orders),
        )
    return RecordOutcome(
        command.command_id,
        command.ts,
        command.symbol,
        command.KIND,
        str(getattr(command, "order_id", "")),
        str(getattr(command, "account_id", "")),
        reason,
    )


def run_command(venue: Venue, command: Command, out: list[Event], *, queued: bool) -> Command:
    """Run `command` on the venue, appending its events to `out`; returns the command to
    journal with them. A command from the queue (`queued`) that caused no events is
    recorded as a RecordOutcome, which answers NothingChanged: every command from the queue
    is then in the journal, so a redelivery after any time is found and skipped. A clock
    tick of the worker (not queued) that caused nothing is not recorded at all: it is never
    delivered again. If the venue raises, so does this (the venue may be half-changed)."""
    venue.handle(command, out)
    if out or not queued:
        return command
    record = outcome_record(command, "")
    venue.handle(record, out)
    return record


def simulator_seed(symbol: str) -> int:
    """A stable per-instrument seed for the paper market (recorded in the first snapshot)."""
    return zlib.crc32(symbol.encode())


def new_venue(
    symbol: str, maker_fee_cbps: int = 0, taker_fee_cbps: int = 0, reference_price: int = 0
) -> Venue:
    """A fresh venue for an instrument that has no snapshot yet."""
    return InstrumentVenues(
        symbol, maker_fee_cbps, taker_fee_cbps, reference_price, simulator_seed(symbol)
    )


def venue_snapshot(venue: Venue) -> dict[str, object]:
    """The venue's snapshot tagged with its kind, for `restore_venue`."""
    return {"kind": VENUES, "state": venue.snapshot()}


def restore_venue(data: dict[str, object]) -> Venue:
    """The venue a `venue_snapshot` describes."""
    state = data.get("state")
    if data.get("kind") != VENUES or not isinstance(state, dict):
        raise ValueError(f"unsupported venue snapshot kind {data.get('kind')!r}")
    return InstrumentVenues.restore(state)
