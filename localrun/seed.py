"""Seed data of the local run: instruments with reference prices, the admin key, and two
demo accounts (one paper, one on the internal matching venue).

Keys are generated on the first start and kept in `OMS_DATA_DIR/local-keys.json` (mode 600,
local development only; the store keeps only their hashes) so they stay valid across
restarts. OMS_ADMIN_API_KEY, when set, is the admin key instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from shared.bootstrap import Container, ensure_admin_account
from shared.domain.enums import AccountType, AssetClass
from shared.domain.instrument import Instrument
from shared.ports.store_accounts import RiskLimits
from shared.ports.store_errors import DuplicateInstrument
from shared.services.admin import NewAccount, create_account


def _us_equity(symbol: str, reference_price: int) -> Instrument:
    return Instrument(
        symbol,
        tick_size=Decimal("0.01"),
        lot_size=Decimal("1"),
        max_quantity=100_000,
        price_collar_bps=1_000,
        maker_fee_cbps=0,
        taker_fee_cbps=50,
        reference_price=reference_price,
    )


INSTRUMENTS = (
    _us_equity("AAPL", 19_000),
    _us_equity("MSFT", 42_000),
    Instrument(
        "BTC-USD",
        tick_size=Decimal("0.5"),
        lot_size=Decimal("0.0001"),
        max_quantity=1_000_000,
        price_collar_bps=500,
        maker_fee_cbps=100,
        taker_fee_cbps=250,
        reference_price=130_000,
        asset_class=AssetClass.CRYPTO,
        settlement_days=0,
    ),
)

DEMO_LIMITS = RiskLimits(
    max_order_notional=Decimal("1000000"),
    max_open_orders=1_000,
    max_daily_orders=100_000,
    rate_per_second=200,
    burst=400,
    credit_limit=Decimal("10000000"),
)


@dataclass(frozen=True, slots=True)
class LocalKeys:
    admin: str
    paper_account: str
    paper_key: str
    live_account: str
    live_key: str


def _keys_file(data_dir: Path) -> Path:
    return data_dir / "local-keys.json"


def _load(data_dir: Path) -> dict[str, str]:
    path = _keys_file(data_dir)
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {str(k): str(v) for k, v in data.items()}


def _save(data_dir: Path, keys: dict[str, str]) -> None:
    path = _keys_file(data_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f, indent=2)
    os.replace(tmp, path)


async def seed(container: Container) -> LocalKeys:
    """Create what is missing (instruments, admin, demo accounts); returns the keys."""
    settings = container.settings
    data_dir = settings.OMS_DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = _load(data_dir)
    for instrument in INSTRUMENTS:
        with contextlib.suppress(DuplicateInstrument):  # kept as it is (an admin may change it)
            await container.store.instruments.create(instrument)
    admin_key = (
        settings.OMS_ADMIN_API_KEY or keys.get("admin") or f"adm_{secrets.token_urlsafe(24)}"
    )
    await ensure_admin_account(container.store, admin_key, container.clock())
    if not settings.OMS_ADMIN_API_KEY:
        keys["admin"] = admin_key
    for kind, account_type in (("paper", AccountType.PAPER), ("live", AccountType.LIVE)):
        account_id = keys.get(f"{kind}_account")
        if account_id and await container.store.accounts.get(account_id) is not None:
            continue
        spec = NewAccount(name=f"demo-{kind}", type=account_type, risk_limits=DEMO_LIMITS)
        account, api_key = await create_account(container, spec, actor="local-run")
        keys[f"{kind}_account"] = account.account_id
        keys[f"{kind}_key"] = api_key
    _save(data_dir, keys)
    return LocalKeys(
        admin=admin_key,
        paper_account=keys["paper_account"],
        paper_key=keys["paper_key"],
        live_account=keys["live_account"],
        live_key=keys["live_key"],
    )
