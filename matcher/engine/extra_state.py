"""The parts of a market's snapshot newer than its order lists, written only when the
market has some (so a book of plain orders snapshots as it always did): each account's
reduce-only orders (`reduce_only`, ids oldest first) and the engine's held legs (`held`).
Contingent groups are not written: they are rebuilt from their orders' rows. (The accounts'
positions are the venues': `InstrumentVenues.snapshot`.)"""

from __future__ import annotations

from matcher.engine.working import Group, RestingOrder, link_group
from shared.domain.codes import SIMPLE


def extra_state(
    held: dict[str, RestingOrder], reduce_only: dict[str, list[RestingOrder]]
) -> dict[str, object]:
    """The newer parts of a market's state, only those it has (see the module's doc)."""
    data: dict[str, object] = {}
    if held:
        data["held"] = [o.to_row() for o in held.values()]
    if reduce_only:
        data["reduce_only"] = [[a, [o.order_id for o in mine]] for a, mine in reduce_only.items()]
    return data


def restore_extra_state(
    reduce_only: dict[str, list[RestingOrder]], orders: list[RestingOrder], data: dict[str, object]
) -> None:
    """Reduce-only lists and groups back from `data` and the restored orders."""
    groups: dict[str, Group] = {}
    by_id = {o.order_id: o for o in orders}
    lists = data.get("reduce_only") or []
    assert isinstance(lists, list)
    for account, ids in lists:
        reduce_only[str(account)] = [by_id[str(i)] for i in ids]
    for o in orders:
        if o.order_class != SIMPLE:
            link_group(groups, o)
