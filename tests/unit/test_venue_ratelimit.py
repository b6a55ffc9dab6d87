"""The per-venue token bucket: bursts, refill, and back-off on the venue's "too fast"."""

from __future__ import annotations

import pytest

from gateway.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_goes_at_once_then_the_rate_applies():
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.wait_time() == 0
        await bucket.take()

    assert bucket.wait_time() == pytest.approx(0.1)
    clock.now += 0.05
    assert bucket.wait_time() == pytest.approx(0.05)
    clock.now += 1.0
    assert bucket.wait_time() == 0  # refilled (up to the burst, not beyond)
    for _ in range(3):
        await bucket.take()
    assert bucket.wait_time() > 0


def test_back_off_pauses_and_doubles_until_relaxed():
    clock = Clock()
    bucket = TokenBucket(rate=1000, burst=100, first_pause=0.5, max_pause=2.0, clock=clock)

    assert bucket.back_off() == 0.5
    assert bucket.wait_time() == pytest.approx(0.5)
    assert [bucket.back_off() for _ in range(3)] == [1.0, 2.0, 2.0]
    bucket.relax()
    clock.now += 10
    assert bucket.wait_time() == 0
    assert bucket.back_off() == 0.5 and bucket.back_offs == 5


def test_a_bucket_needs_a_positive_rate_and_a_burst():
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0)
