"""A paper account's fill simulator settings, set by an admin and carried on its orders.

Each setting left unset (None) is the instrument's default (its simulator configuration).
They are integers as the simulator uses them: slippage and size impact in hundredths of a
basis point (cbps, 1 bp = 100 cbps) of the reference price, times in nanoseconds, the
partial-fill step in percent of the order quantity. An order takes the settings its account
has when it is placed, on its NewOrder (`command_fields`), so a later change applies to the
account's next orders only and a replay of the journal gives the same fills.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

NAMES = (
    "slippage_cbps",
    "impact_cbps_per_lot",
    "latency_ns",
    "fill_ratio_pct",
    "fill_interval_ns",
)


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    slippage_cbps: int | None = None
    impact_cbps_per_lot: int | None = None
    latency_ns: int | None = None
    fill_ratio_pct: int | None = None
    fill_interval_ns: int | None = None

    @property
    def is_default(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def to_doc(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in NAMES}

    @staticmethod
    def from_doc(doc: object) -> SimulatorSettings:
        """From `to_doc` output; None or {} (older documents) is every default."""
        if not isinstance(doc, dict):
            return SimulatorSettings()
        values = {name: doc.get(name) for name in NAMES}
        return SimulatorSettings(**{k: None if v is None else int(v) for k, v in values.items()})

    def command_fields(self) -> dict[str, int]:
        """The NewOrder fields (`sim_*`) that carry them; -1 (0 for the ratio): default."""
        return {
            "sim_slippage_cbps": _or(self.slippage_cbps, -1),
            "sim_impact_cbps_per_lot": _or(self.impact_cbps_per_lot, -1),
            "sim_latency_ns": _or(self.latency_ns, -1),
            "sim_fill_ratio_pct": _or(self.fill_ratio_pct, 0),
            "sim_fill_interval_ns": _or(self.fill_interval_ns, -1),
        }


def _or(value: int | None, default: int) -> int:
    return default if value is None else value
