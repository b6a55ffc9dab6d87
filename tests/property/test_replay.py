"""Determinism: snapshot at a random point, restore, continue == the uninterrupted run."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.engine.simulator import SimulatorConfig
from matcher.engine.venues import InstrumentVenues
from shared.domain.events import Event
from tests.property.streams import random_commands


def fresh() -> InstrumentVenues:
    config = SimulatorConfig(
        seed=7,
        start_price=100,
        step_ns=200_000_000,
        latency_ns=1_000,
        fill_ratio_pct=40,
        fill_interval_ns=300_000_000,
        slippage_cbps=500,
        impact_cbps_per_lot=10,
        maker_fee_cbps=5,
        taker_fee_cbps=20,
    )
    return InstrumentVenues("TEST", 5, 20, simulator=config)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000), cut=st.floats(min_value=0, max_value=1))
def test_restore_plus_remaining_commands_equals_uninterrupted_run(seed: int, cut: float) -> None:
    commands = random_commands(seed, 400)
    at = int(cut * len(commands))

    clean = fresh()
    clean_events: list[Event] = []
    clean.process(commands, clean_events)

    first = fresh()
    events: list[Event] = []
    first.process(commands[:at], events)
    # The snapshot travels as JSON, as it does to Blob Storage.
    restored = InstrumentVenues.restore(json.loads(json.dumps(first.snapshot())))
    assert restored.state_hash() == first.state_hash()
    restored.process(commands[at:], events)

    assert events == clean_events
    assert restored.state_hash() == clean.state_hash()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_same_commands_same_events_and_hash_and_a_different_stream_differs() -> None:
    commands = random_commands(3, 500)
    runs = []
    for _ in range(2):
        venues = fresh()
        out: list[Event] = []
        venues.process(commands, out)
        runs.append((out, venues.state_hash()))
    assert runs[0] == runs[1]
    other = fresh()
    other.process(random_commands(4, 500), [])
    assert other.state_hash() != runs[0][1]
