"""Contract: the cash ledger and the audit log, on every store adapter."""

from __future__ import annotations

import asyncio

import pytest

from shared.ports.store_audit import AuditEntry, AuditFilter
from shared.ports.store_cash import CashEntry, LedgerConflict


def cash(seq: int, amount: int, balance: int, entry_id: str = "", account: str = "acc-1"):
    return CashEntry(account, entry_id or f"e{seq}", seq, "deposit", amount, balance, seq, "ops")


async def test_ledger_entries_are_numbered_and_a_retry_finds_its_entry(store):
    assert await store.cash.last("acc-1") is None
    first = cash(1, 500, 500)
    assert await store.cash.append(first) == first
    second = cash(2, -200, 300)
    await store.cash.append(second)

    # A retry under the same entry id gets the entry stored first, whatever it now says.
    assert await store.cash.append(cash(3, 999, 1_299, entry_id="e1")) == first
    assert await store.cash.last("acc-1") == second
    assert await store.cash.get("acc-1", "e2") == second
    assert await store.cash.get("acc-2", "e2") is None
    page = await store.cash.list_entries("acc-1", limit=1)
    rest = await store.cash.list_entries("acc-1", limit=1, cursor=page.next_cursor)
    assert [e.seq for e in page.items + rest.items] == [2, 1] and rest.next_cursor is None


async def test_two_entries_racing_for_one_number_cannot_both_land(store):
    await store.cash.append(cash(1, 500, 500))

    results = await asyncio.gather(
        store.cash.append(cash(2, 100, 600, entry_id="a")),
        store.cash.append(cash(2, 50, 550, entry_id="b")),
        return_exceptions=True,
    )

    assert sum(isinstance(r, LedgerConflict) for r in results) == 1
    last = await store.cash.last("acc-1")
    assert last is not None and last.seq == 2 and last.entry_id in ("a", "b")
    with pytest.raises(LedgerConflict):
        await store.cash.append(cash(2, 1, 501, entry_id="c"))


def audit(n: int, action: str, target: str, actor: str = "admin") -> AuditEntry:
    return AuditEntry(
        f"a{n:03d}",
        n * 10,
        actor,
        action,
        "account",
        target,
        {"name": "before"} if n % 2 else None,
        {"name": "after", "limits": {"credit_limit": "5"}},
        "why",
    )


async def test_the_audit_log_lists_newest_first_with_filters_and_a_cursor(store):
    entries = [
        audit(1, "account.created", "acc-1"),
        audit(2, "account.changed", "acc-1", actor="ops"),
        audit(3, "cash.deposit", "acc-2"),
        audit(4, "account.changed", "acc-2"),
    ]
    for entry in entries:
        await store.audit.append(entry)
    await store.audit.append(entries[0])  # stored once

    first = await store.audit.list_entries(AuditFilter(), limit=3)
    second = await store.audit.list_entries(AuditFilter(), limit=3, cursor=first.next_cursor)
    changed = await store.audit.list_entries(AuditFilter(action="account.changed"))
    theirs = await store.audit.list_entries(AuditFilter(target_id="acc-2", since=31))
    by_ops = await store.audit.list_entries(AuditFilter(actor="ops", until=30))

    assert first.items + second.items == entries[::-1] and second.next_cursor is None
    assert [e.audit_id for e in changed.items] == ["a004", "a002"]
    assert [e.audit_id for e in theirs.items] == ["a004"]
    assert [e.audit_id for e in by_ops.items] == ["a002"]
