"""Why an instrument worker stops. Each tells the service what to do next."""

from __future__ import annotations


class InstrumentLost(Exception):
    """Another worker wrote this instrument's journal (our session lock lapsed meanwhile):
    drop the in-memory state; the session comes back and recovery starts from the journal."""


class ReplayDivergence(Exception):
    """Replaying the journal produced other events than it holds: determinism is broken.
    Fatal: the service stops rather than publish anything that disagrees with the record."""
