"""Paper controls: an admin sets a paper account's fill simulator (slippage, size impact,
latency, partial-fill schedule), applied to the account's next orders.

The API speaks decimal strings in bps and ms; the simulator integers (cbps, ns): a value
that does not convert exactly, or is out of range, is refused with the field to blame. A
setting given as null goes back to the instrument's default.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from shared.domain.enums import AccountType
from shared.domain.paper_settings import SimulatorSettings
from shared.ports.store_accounts import Account
from shared.services import codes
from shared.services.errors import InvalidRequest

_CBPS_PER_BP = Decimal(100)
_NS_PER_MS = Decimal(1_000_000)
MAX_BPS = Decimal(10_000)  # 100% of the reference price
MAX_MS = Decimal(3_600_000)  # an hour

# API name -> (setting, unit factor, maximum); partial_fills' fields are `partial_fills.<x>`
_SCALED = {
    "slippage_bps": ("slippage_cbps", _CBPS_PER_BP, MAX_BPS),
    "impact_bps_per_lot": ("impact_cbps_per_lot", _CBPS_PER_BP, MAX_BPS),
    "latency_ms": ("latency_ns", _NS_PER_MS, MAX_MS),
    "partial_fills.interval_ms": ("fill_interval_ns", _NS_PER_MS, MAX_MS),
}


def _scaled(api_name: str, raw: object) -> int | None:
    _, unit, maximum = _SCALED[api_name]
    field = f"simulator.{api_name}"
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidRequest(codes.INVALID_VALUE, f"{field} is not a number", field) from None
    if not value.is_finite() or value < 0 or value > maximum:
        detail = f"{field} must be within 0 and {maximum}"
        raise InvalidRequest(codes.INVALID_VALUE, detail, field)
    scaled = value * unit
    if scaled != scaled.to_integral_value():
        detail = f"{field} has more decimals than the simulator's unit ({1 / unit} of it)"
        raise InvalidRequest(codes.INVALID_VALUE, detail, field)
    return int(scaled)


def simulator_changes(given: dict[str, object]) -> dict[str, int | None]:
    """The settings a PATCH's `simulator` object changes (only the fields it names; null:
    back to the default), validated; InvalidRequest names the field at fault."""
    changes: dict[str, int | None] = {}
    for api_name in ("slippage_bps", "impact_bps_per_lot", "latency_ms"):
        if api_name in given:
            changes[_SCALED[api_name][0]] = _scaled(api_name, given[api_name])
    partial = given.get("partial_fills")
    if "partial_fills" in given and partial is None:
        changes["fill_ratio_pct"] = changes["fill_interval_ns"] = None
    elif isinstance(partial, dict):
        if "fill_ratio_pct" in partial:
            ratio = partial["fill_ratio_pct"]
            if ratio is not None and (
                not isinstance(ratio, int) or isinstance(ratio, bool) or not 1 <= ratio <= 100
            ):
                field = "simulator.partial_fills.fill_ratio_pct"
                detail = f"{field} must be an integer within 1 and 100"
                raise InvalidRequest(codes.INVALID_VALUE, detail, field)
            changes["fill_ratio_pct"] = ratio
        if "interval_ms" in partial:
            interval = _scaled("partial_fills.interval_ms", partial["interval_ms"])
            changes["fill_interval_ns"] = interval
    if not changes:
        raise InvalidRequest(codes.NOTHING_TO_CHANGE, "simulator names no setting", "simulator")
    return changes


def with_simulator(account: Account, changes: dict[str, int | None]) -> Account:
    """The account with its simulator settings changed; paper accounts only."""
    if account.type is not AccountType.PAPER:
        detail = "only a paper account's orders run on the fill simulator"
        raise InvalidRequest(codes.NOT_A_PAPER_ACCOUNT, detail, "simulator")
    return replace(account, simulator=replace(account.simulator, **changes))


def with_shadow(account: Account, on: bool) -> Account:
    """Shadow mode on or off: a live account's internal orders also run, unseen by the book,
    on the fill simulator, from its next order on."""
    if on and account.type is not AccountType.LIVE:
        detail = "shadow mode copies a live account's internal orders onto the simulator"
        raise InvalidRequest(codes.ACCOUNT_NOT_LIVE, detail, "shadow")
    return replace(account, shadow=on)


def _text(value: int | None, unit: Decimal) -> str | None:
    if value is None:
        return None
    return format((Decimal(value) / unit).normalize(), "f")


def simulator_view(account: Account) -> dict[str, object] | None:
    """A paper account's settings as the API shows them (null: the instrument's default);
    None for a live account."""
    if account.type is not AccountType.PAPER:
        return None
    s: SimulatorSettings = account.simulator
    return {
        "slippage_bps": _text(s.slippage_cbps, _CBPS_PER_BP),
        "impact_bps_per_lot": _text(s.impact_cbps_per_lot, _CBPS_PER_BP),
        "latency_ms": _text(s.latency_ns, _NS_PER_MS),
        "partial_fills": {
            "fill_ratio_pct": s.fill_ratio_pct,
            "interval_ms": _text(s.fill_interval_ns, _NS_PER_MS),
        },
    }
