"""The audit log port: every administrative action, with who did it, when, and the thing
before and after (as the API shows it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One administrative action. `audit_id` is unique (and sorts by time within a
    nanosecond); `action` a stable dotted name (`account.created`, `cash.deposit`, ...);
    `target_type` and `target_id` what it acted on; `before` / `after` the target's view
    (None: it did not exist / does not any more)."""

    audit_id: str
    at: int
    actor: str
    action: str
    target_type: str
    target_id: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Entries that match every field given (None: any)."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: int | None = None
    until: int | None = None


class AuditRepository(Protocol):
    """Audit entries keyed by audit_id, listed newest first by (at, audit_id)."""

    async def append(self, entry: AuditEntry) -> None:
        """Store the entry (storing the same id again changes nothing)."""
        ...

    async def list_entries(
        self, where: AuditFilter, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditEntry]:
        """Entries matching `where` (`since <= at < until`), newest first; cursor paging."""
        ...
