"""The audit trail of administrative actions: who did what to which account or instrument,
when, and how it looked before and after. Every admin service records here (and logs an
`audit` line, as before); every entry is also pushed live to the admins' feed
(`auditRecorded` on the admin stream, see shared.feeds.streams)."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Protocol

from shared.feeds.publisher import FeedPublisher
from shared.ports.store import Store
from shared.ports.store_audit import AuditEntry, AuditFilter
from shared.ports.store_errors import InvalidCursor
from shared.ports.store_paging import Page
from shared.services import codes
from shared.services.background import Background
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest
from shared.services.views import ns_to_rfc3339

log = logging.getLogger("audit")


class AuditDeps(Protocol):
    """What recording needs: the store, the admin feed, the clock and a place for the push
    (every service's Deps has them; a process without the service layer, such as the
    gateway, brings just these)."""

    @property
    def store(self) -> Store: ...

    @property
    def feeds(self) -> FeedPublisher: ...

    @property
    def clock(self) -> Callable[[], int]: ...

    @property
    def background(self) -> Background: ...


def new_audit_id(now: int) -> str:
    """Unique, and sorting by time: the nanosecond, then 12 random hex digits."""
    return f"{now:020d}-{secrets.token_hex(6)}"


def keyed_audit_id(at: int, key: str) -> str:
    """The id of the one entry about `key` at `at`: recording it again stores nothing new."""
    return f"{at:020d}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def audit_view(entry: AuditEntry) -> dict[str, object]:
    """An entry as the API shows it (GET /api/admin/audit) and the admin feed pushes it."""
    return {
        "audit_id": entry.audit_id,
        "at": ns_to_rfc3339(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "detail": entry.detail,
    }


async def record(
    deps: AuditDeps,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    detail: str = "",
    *,
    at: int | None = None,
    key: str | None = None,
) -> AuditEntry:
    """Store one audit entry (and log it), then push it to the admins' feed (in the
    background). An entry
    with a `key` (something that may be recorded again, e.g. by a redelivered batch) is
    stored once: its id derives from `at` and the key."""
    now = deps.clock() if at is None else at
    entry = AuditEntry(
        new_audit_id(now) if key is None else keyed_audit_id(now, key),
        now,
        actor,
        action,
        target_type,
        target_id,
        None if before is None else dict(before),
        None if after is None else dict(after),
        detail,
    )
    await deps.store.audit.append(entry)
    log.info("%s %s %s by %s %s", action, target_type, target_id, actor, detail)
    # The push is not waited for: the action (a kill switch's cancels, say) goes on at once.
    # Pushes leave in the order recorded (one lock per stream); a failed one is logged and
    # the entry is in the list (GET /api/admin/audit) all the same.
    deps.background.spawn(deps.feeds.audit_recorded(audit_view(entry)), "an admin feed push")
    return entry


_INT64_MAX = 2**63 - 1


def _clamp(ns: int | None) -> int | None:
    return None if ns is None else max(-_INT64_MAX, min(ns, _INT64_MAX))


async def list_audit(
    deps: Deps, where: AuditFilter, limit: int, cursor: str | None
) -> Page[AuditEntry]:
    """The entries matching `where`, newest first (times beyond the store's range clamped)."""
    where = dataclasses.replace(where, since=_clamp(where.since), until=_clamp(where.until))
    try:
        return await deps.store.audit.list_entries(where, limit, cursor)
    except InvalidCursor:
        raise InvalidRequest(
            codes.INVALID_CURSOR, "the cursor is not one this API issued", "cursor"
        ) from None
