"""The account repository port: who may trade, with which key, within which limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from shared.domain.enums import AccountType, SelfTradePrevention, TradingState
from shared.domain.paper_settings import SimulatorSettings


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Pre-trade limits of an account. Money is Decimal (quote currency), never float."""

    max_order_notional: Decimal = Decimal("1000000")
    max_open_orders: int = 1_000
    max_daily_orders: int = 100_000
    rate_per_second: int = 50
    burst: int = 100
    credit_limit: Decimal = Decimal("1000000")


@dataclass(frozen=True, slots=True)
class Account:
    """A trading account. `api_key_hash` is the sha256 hex of its API key (the key itself
    is never stored); `version` is the optimistic-concurrency counter. `venue` routes a
    live account's orders to an external venue (None: the internal matching engine). Its
    cash is in `currency`: `starting_cash` (what a paper account starts with, and returns
    to on a reset) plus its cash ledger (deposits, withdrawals, resets) plus what its fills
    moved. `simulator`: a paper account's own fill simulator settings (its next orders')."""

    account_id: str
    name: str
    type: AccountType
    api_key_hash: str
    roles: tuple[str, ...] = ("trader",)
    risk_limits: RiskLimits = field(default_factory=RiskLimits)
    trading_state: TradingState = TradingState.ACTIVE
    stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST
    created_at: int = 0
    version: int = 0
    venue: str | None = None
    currency: str = "USD"
    starting_cash: Decimal = Decimal(0)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    shadow: bool = False  # shadow mode: its internal orders also run on the fill simulator


class AccountRepository(Protocol):
    """Accounts keyed by account id; API key hashes are unique across accounts."""

    async def create(self, account: Account) -> None:
        """Store a new account. Raises DuplicateAccount or DuplicateApiKey."""
        ...

    async def get(self, account_id: str) -> Account | None:
        """The account, or None."""
        ...

    async def get_by_api_key_hash(self, api_key_hash: str) -> Account | None:
        """The account holding this API key hash, or None."""
        ...

    async def update(self, account: Account, expected_version: int) -> Account:
        """Write `account` if the stored version is still `expected_version`; returns it as
        stored (version + 1). Raises VersionConflict, NotFound, or DuplicateApiKey when a
        new key hash belongs to another account."""
        ...

    async def list_accounts(self) -> list[Account]:
        """Every account, by account id."""
        ...
