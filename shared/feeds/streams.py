"""Names of the feed streams and of the SignalR groups that carry the instrument feeds.

Per account one stream carries both `orderUpdated` and `executionReported` (sent to the
account's user id), so a client sees one contiguous sequence for everything about its orders.
Per instrument the `trade` and `book` streams each have their own sequence and group.
One `admin` stream (and group) carries every audit entry as it is recorded (`auditRecorded`):
admin actions, and what an external venue said that no order of ours could take.
"""

from __future__ import annotations

ORDER_UPDATED = "orderUpdated"
EXECUTION_REPORTED = "executionReported"
TRADE = "trade"
BOOK = "book"
AUDIT_RECORDED = "auditRecorded"
ADMIN_STREAM = "admin"
"""The admin stream's name, and the SignalR group of the connections that hear it."""


def account_stream(account_id: str) -> str:
    """The stream of one account's order updates and executions."""
    return f"account:{account_id}"


def trades_group(instrument: str) -> str:
    """The SignalR group (and stream) of an instrument's trades."""
    return f"trades:{instrument}"


def book_group(instrument: str) -> str:
    """The SignalR group (and stream) of an instrument's L2 book."""
    return f"book:{instrument}"


INSTRUMENT_FEEDS = {"trades": trades_group, "book": book_group}


def instrument_groups(symbols: list[str], feeds: list[str]) -> list[str]:
    """The groups of these feeds ("trades", "book") of these instruments, without repeats."""
    groups = (INSTRUMENT_FEEDS[feed](symbol) for symbol in symbols for feed in feeds)
    return list(dict.fromkeys(groups))
