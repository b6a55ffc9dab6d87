"""The fill simulator's reference price: a seeded random walk evaluated without state.

The walk has one step every `step_ns` (Gaussian steps of `step_ticks` standard deviation), or
is a replayed list of (ts, price) points. It is built as a Brownian bridge over the step
index, so its value at any time is a pure function of (seed, anchor, ts): no hidden cursor,
nothing that depends on which commands happened to look at the price. The anchor (where the
walk equals `start_price`) is the time of the first paper order, which is journaled, so
replays and restores see the same market.

W(step) is a Brownian bridge over the step index (0 .. 2**48): its value at any step is a
pure function of (seed, step), found by bisection with one hash per level, so no cursor or
history is kept and any time can be looked at in any order.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING, final

if TYPE_CHECKING:
    from matcher.engine.sim_config import SimulatorConfig

_MASK = (1 << 64) - 1
_LEVELS = 48  # the bridge covers step indices 0 .. 2**48 (ns / step_ns since the epoch)
MICRO = 1_000_000  # the walk is computed in millionths of a tick


def _mix(seed: int, key: int) -> int:
    """splitmix64 of (seed, key): a reproducible pseudo-random 64-bit number."""
    z = (seed * 0x9E3779B97F4A7C15 + key * 0xBF58476D1CE4E5B9 + 0x94D049BB133111EB) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _normal_micro(seed: int, key: int) -> int:
    """A standard normal draw times 1e6 (Irwin-Hall: four 16-bit uniforms), from the hash."""
    h = _mix(seed, key)
    total = (h & 0xFFFF) + ((h >> 16) & 0xFFFF) + ((h >> 32) & 0xFFFF) + (h >> 48)
    # mean 4 * 32767.5, standard deviation sqrt(4 / 12) * 65536
    return (2 * total - 262_140) * MICRO // 75_674


def bridge_spreads(sigma_ticks: int) -> list[int]:
    """Standard deviations (millionths of a tick) of the bridge's midpoints, per depth;
    entry 0 is that of W(2**48) itself."""
    spreads = [math.isqrt((1 << _LEVELS) * sigma_ticks * sigma_ticks * MICRO * MICRO)]
    for depth in range(_LEVELS):
        width = 1 << (_LEVELS - depth)
        spreads.append(math.isqrt(width * sigma_ticks * sigma_ticks * MICRO * MICRO // 4))
    return spreads


def walk_micro(seed: int, spreads: list[int], step: int) -> int:
    """W(step) in millionths of a tick: a random walk with W(0) = 0 and Gaussian steps (see
    `bridge_spreads`), evaluated by Brownian-bridge bisection (48 hashes, no state)."""
    lo, hi = 0, 1 << _LEVELS
    w_lo = 0
    w_hi = spreads[0] * _normal_micro(seed, hi) // MICRO
    depth = 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        w_mid = (w_lo + w_hi) // 2 + spreads[depth] * _normal_micro(seed, mid) // MICRO
        depth += 1
        if step < mid:
            hi, w_hi = mid, w_mid
        else:
            lo, w_lo = mid, w_mid
    return w_lo if step == lo else w_hi


@final
class ReferenceWalk:
    """The reference price of one simulator: its walk (or replayed prices) and its anchor,
    the step where the walk equals `start_price` (fixed by the first look, -1 before)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.anchor_step = -1
        self.anchor_micro = 0  # W(anchor_step)
        self.memo_step = -1  # the last step evaluated and its W: a cache, not state
        self.memo_micro = 0

    def price(self, ts: int) -> int:
        """The simulated market price at `ts` (the first call fixes the walk's anchor)."""
        cfg = self.config
        if cfg.prices:
            i = bisect_right(cfg.prices, (ts, 1 << 62))
            return cfg.prices[i - 1][1] if i > 0 else cfg.start_price
        step = ts // cfg.step_ns
        if step != self.memo_step:
            self.memo_step = step
            self.memo_micro = walk_micro(cfg.seed, cfg.spreads, step)
        if self.anchor_step < 0:
            self.anchor_step = step
            self.anchor_micro = self.memo_micro
            return cfg.start_price
        moved = self.memo_micro - self.anchor_micro
        price = cfg.start_price + (moved + MICRO // 2) // MICRO
        return price if price > 1 else 1
