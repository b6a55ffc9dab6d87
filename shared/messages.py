"""Wire formats on the bus: commands to the matcher, event batches back from it.

- `orders` queue: one command per message; message id = command id (duplicate detection),
  session id = the instrument symbol (one writer per book, FIFO per instrument).
- `executions` queue: the events of one or more consecutive journal entries, with each
  entry's processing time; message id = "<symbol>:<first_seq>-<last_seq>", session id =
  the symbol.
Both carry the trace context of their traced commands in properties (observability.tracing).
Bodies are JSON (orjson); integers stay integers, nothing is a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from shared.domain.commands import Command, command_from_dict
from shared.domain.events import Event, event_from_dict
from shared.ports.bus import BusMessage


def command_message(command: Command, trace: Mapping[str, str] | None = None) -> BusMessage:
    """The command's message; `trace`: the sender's trace context, as message properties."""
    return BusMessage(
        body=orjson.dumps(command.to_dict()),
        message_id=command.command_id,
        session_id=command.symbol,
        application_properties={"kind": command.KIND, **trace} if trace else {"kind": command.KIND},
    )


def decode_command(body: bytes) -> Command:
    """The command in a message body; raises ValueError (or KeyError/TypeError) if malformed."""
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("command body must be a JSON object")
    return command_from_dict(data)


@dataclass(frozen=True, slots=True)
class EventBatch:
    """The events of one or more consecutive commands (journal entries) of an instrument, in
    sequence order; `command_id` is the last command's. `processed`: (first_seq,
    processed_at) of each journal entry that recorded its processing time (see
    `JournalEntry.processed_at`), in sequence order; `processed_at(seq)` looks one up."""

    symbol: str
    command_id: str
    first_seq: int
    last_seq: int
    events: tuple[Event, ...]
    processed: tuple[tuple[int, int], ...] = ()

    def processed_at(self, seq: int) -> int:
        """When the matcher ran the command that made the event at `seq` (ns; 0: unknown)."""
        found = 0
        for first_seq, at in self.processed:
            if first_seq > seq:
                break
            found = at
        return found

    def processing_times(self) -> dict[int, int]:
        """`processed_at` of every event of the batch, by seq, in one pass."""
        times: dict[int, int] = {}
        stamps = self.processed
        n, at = 0, 0
        for event in self.events:
            while n < len(stamps) and stamps[n][0] <= event.seq:
                at = stamps[n][1]
                n += 1
            times[event.seq] = at
        return times

    @property
    def message_id(self) -> str:
        """Names the exact range: duplicate detection drops a re-publish of the same range
        only (a re-publish grouped otherwise is delivered; projecting is idempotent)."""
        return f"{self.symbol}:{self.first_seq}-{self.last_seq}"


def event_batch_message(batch: EventBatch, trace: Mapping[str, str] | None = None) -> BusMessage:
    """The batch's message; `trace`: its traced commands, as message properties."""
    body = {
        "symbol": batch.symbol,
        "command_id": batch.command_id,
        "first_seq": batch.first_seq,
        "last_seq": batch.last_seq,
        "events": [e.to_dict() for e in batch.events],
    }
    if batch.processed:
        body["processed"] = [list(pair) for pair in batch.processed]
    return BusMessage(
        body=orjson.dumps(body),
        message_id=batch.message_id,
        session_id=batch.symbol,
        application_properties={
            "first_seq": batch.first_seq,
            "last_seq": batch.last_seq,
            **(trace or {}),
        },
    )


def decode_event_batch(body: bytes) -> EventBatch:
    data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("event batch body must be a JSON object")
    events = tuple(event_from_dict(e) for e in data["events"])
    processed = tuple((int(seq), int(at)) for seq, at in data.get("processed") or ())
    return EventBatch(
        symbol=str(data["symbol"]),
        command_id=str(data["command_id"]),
        first_seq=int(data["first_seq"]),
        last_seq=int(data["last_seq"]),
        events=events,
        processed=processed,
    )
