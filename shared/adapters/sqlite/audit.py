"""The audit log on SQLite: the filter columns, the whole entry as JSON."""

from __future__ import annotations

import dataclasses

import orjson

from shared.adapters.sqlite.database import SqliteDatabase
from shared.adapters.sqlite.paging import add_time_window
from shared.ports.store_audit import AuditEntry, AuditFilter
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, Page, clamp_limit, encode_cursor


def _entry(raw: bytes) -> AuditEntry:
    return AuditEntry(**orjson.loads(raw))


class SqliteAuditRepository:
    """The AuditRepository on SQLite."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def append(self, entry: AuditEntry) -> None:
        await self._db.write_one(
            "INSERT INTO audit_log (audit_id, at, actor, action, target_type, target_id, doc)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (audit_id) DO NOTHING",
            (
                entry.audit_id,
                entry.at,
                entry.actor,
                entry.action,
                entry.target_type,
                entry.target_id,
                orjson.dumps(dataclasses.asdict(entry)),
            ),
        )

    async def list_entries(
        self, where: AuditFilter, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Page[AuditEntry]:
        limit = clamp_limit(limit)
        terms: list[str] = []
        args: list[object] = []
        for column in ("actor", "action", "target_type", "target_id"):
            value = getattr(where, column)
            if value is not None:
                terms.append(f"{column} = ?")
                args.append(value)
        add_time_window(terms, args, "at", "audit_id", where.since, where.until, cursor)
        clause = f"WHERE {' AND '.join(terms)}" if terms else ""
        rows = self._db.reader.execute(
            f"SELECT doc FROM audit_log {clause} ORDER BY at DESC, audit_id DESC LIMIT ?",
            (*args, limit + 1),
        ).fetchall()
        items = [_entry(row[0]) for row in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        return Page(items, encode_cursor(last.at, last.audit_id) if last else None)
