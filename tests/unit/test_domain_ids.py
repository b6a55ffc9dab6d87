"""Order ids: unguessable, unique, and in creation order (so id indexes grow at one end)."""

from __future__ import annotations

import re
import time

from shared.domain.ids import new_order_id


def test_order_ids_are_32_hex_digits_and_unique():
    ids = [new_order_id() for _ in range(10_000)]

    assert all(re.fullmatch(r"[0-9a-f]{32}", order_id) for order_id in ids)
    assert len(set(ids)) == len(ids)


def test_an_order_id_made_in_a_later_millisecond_sorts_after():
    earlier = new_order_id()
    time.sleep(0.002)
    later = new_order_id()

    assert earlier < later
    assert int(later[:12], 16) - int(earlier[:12], 16) >= 2  # the milliseconds between


def test_ids_of_the_same_millisecond_differ_in_80_random_bits():
    made = [new_order_id() for _ in range(1_000)]
    same_ms = [order_id for order_id in made if order_id[:12] == made[0][:12]]

    assert len({order_id[12:] for order_id in same_ms}) == len(same_ms)
