"""The pre-trade checks a preview ran, passed and failed, each with its figures.

The rules themselves live where placing runs them (shared.services.tickets for the request
against the instrument, shared.services.risk for the order alone, shared.services.limits
for the account's ledger); each takes an optional `Checklist` and, given one, records what
it checked: a failure with its reason code, a pass with the figures it compared. Placing
passes none (and stops at the first failure); a preview passes one and shows it all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """One pre-trade check: its stable name, the outcome, a sentence with its figures, the
    reason code when it failed, the request field it concerns, and the order's figure
    (`value`) against the figure it is held to (`limit`) when it compares two."""

    name: str
    passed: bool
    detail: str
    reason: str | None = None
    field: str | None = None
    value: str | None = None
    limit: str | None = None


class Checklist:
    """The checks recorded so far, in the order they ran."""

    __slots__ = ("checks",)

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def passed(
        self,
        name: str,
        detail: str,
        *,
        field: str | None = None,
        value: str | None = None,
        limit: str | None = None,
    ) -> None:
        self.checks.append(Check(name, True, detail, None, field, value, limit))

    def failed(
        self,
        name: str,
        reason: str,
        detail: str,
        *,
        field: str | None = None,
        value: str | None = None,
        limit: str | None = None,
    ) -> None:
        self.checks.append(Check(name, False, detail, reason, field, value, limit))

    def extend(self, other: Checklist) -> None:
        self.checks.extend(other.checks)
