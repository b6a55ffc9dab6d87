"""How the paper fill simulator's market behaves: its settings (all integers: ticks, lots,
ns, cbps), kept in its snapshot."""

from __future__ import annotations

from typing import final

from matcher.engine.walk import bridge_spreads


@final
class SimulatorConfig:
    """How the simulated market behaves. All integers (ticks, lots, ns, cbps)."""

    def __init__(
        self,
        seed: int = 0,
        start_price: int = 10_000,
        step_ns: int = 1_000_000_000,
        step_ticks: int = 1,
        slippage_cbps: int = 0,
        impact_cbps_per_lot: int = 0,
        latency_ns: int = 0,
        fill_ratio_pct: int = 100,
        fill_interval_ns: int = 0,
        maker_fee_cbps: int = 0,
        taker_fee_cbps: int = 0,
        prices: list[tuple[int, int]] | None = None,
    ) -> None:
        if not 1 <= fill_ratio_pct <= 100:
            raise ValueError("fill_ratio_pct must be within 1..100")
        if step_ns <= 0 or start_price <= 0:
            raise ValueError("step_ns and start_price must be positive")
        self.seed = seed
        self.start_price = start_price
        self.step_ns = step_ns
        self.step_ticks = step_ticks
        self.slippage_cbps = slippage_cbps
        self.impact_cbps_per_lot = impact_cbps_per_lot
        self.latency_ns = latency_ns
        self.fill_ratio_pct = fill_ratio_pct
        self.fill_interval_ns = fill_interval_ns
        self.maker_fee_cbps = maker_fee_cbps
        self.taker_fee_cbps = taker_fee_cbps
        self.prices: list[tuple[int, int]] = sorted(prices) if prices else []
        self.spreads = bridge_spreads(step_ticks)

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "start_price": self.start_price,
            "step_ns": self.step_ns,
            "step_ticks": self.step_ticks,
            "slippage_cbps": self.slippage_cbps,
            "impact_cbps_per_lot": self.impact_cbps_per_lot,
            "latency_ns": self.latency_ns,
            "fill_ratio_pct": self.fill_ratio_pct,
            "fill_interval_ns": self.fill_interval_ns,
            "maker_fee_cbps": self.maker_fee_cbps,
            "taker_fee_cbps": self.taker_fee_cbps,
            "prices": [[t, p] for t, p in self.prices],
        }

    @staticmethod
    def from_dict(data: dict[str, object]) -> SimulatorConfig:
        raw_prices = data.get("prices") or []
        assert isinstance(raw_prices, list)
        return SimulatorConfig(
            int(str(data["seed"])),
            int(str(data["start_price"])),
            int(str(data["step_ns"])),
            int(str(data["step_ticks"])),
            int(str(data["slippage_cbps"])),
            int(str(data["impact_cbps_per_lot"])),
            int(str(data["latency_ns"])),
            int(str(data["fill_ratio_pct"])),
            int(str(data["fill_interval_ns"])),
            int(str(data["maker_fee_cbps"])),
            int(str(data["taker_fee_cbps"])),
            [(int(p[0]), int(p[1])) for p in raw_prices],
        )


def slipped_price(cfg: SimulatorConfig, ref: int, is_buy: bool, qty: int) -> int:
    """The reference price moved against the trader by the configured slippage: fixed plus
    size impact, in hundredths of a bp of the reference (rounded against the trader)."""
    return slipped_with(cfg.slippage_cbps, cfg.impact_cbps_per_lot, ref, is_buy, qty)


def slipped_with(
    slippage_cbps: int, impact_cbps_per_lot: int, ref: int, is_buy: bool, qty: int
) -> int:
    """`slipped_price` with the given slippage and size impact (an order's own)."""
    rate = slippage_cbps + impact_cbps_per_lot * qty
    slip = ref * rate
    if is_buy:
        return ref + (slip + 999_999) // 1_000_000
    return max(1, ref - slip // 1_000_000)
