"""The audit trail of administrative actions: who did what to which account or instrument,
when, and how it looked before and after. Every admin service records here (and logs an
`audit` line, as before)."""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Mapping

from shared.ports.store_audit import AuditEntry, AuditFilter
from shared.ports.store_errors import InvalidCursor
from shared.ports.store_paging import Page
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import InvalidRequest

log = logging.getLogger("audit")


def new_audit_id(now: int) -> str:
    """Unique, and sorting by time: the nanosecond, then 12 random hex digits."""
    return f"{now:020d}-{secrets.token_hex(6)}"


async def record(
    deps: Deps,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
    detail: str = "",
) -> AuditEntry:
    """Store one audit entry (and log it)."""
    now = deps.clock()
    entry = AuditEntry(
        new_audit_id(now),
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
