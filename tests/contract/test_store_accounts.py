"""Contract: accounts, instruments and idempotency records, on every store adapter."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from decimal import Decimal

import pytest

from shared.domain.enums import AccountType, TradingState
from shared.domain.instrument import Instrument
from shared.domain.sessions import TradingSession
from shared.ports.store_accounts import Account, RiskLimits
from shared.ports.store_codec import instrument_from_doc, instrument_to_doc
from shared.ports.store_errors import (
    DuplicateAccount,
    DuplicateApiKey,
    DuplicateInstrument,
    NotFound,
    VersionConflict,
)
from shared.ports.store_feeds import FeedPosition


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def account(account_id: str = "acc-1", key: str = "key-1", **overrides) -> Account:
    fields = {
        "account_id": account_id,
        "name": f"Desk {account_id}",
        "type": AccountType.PAPER,
        "api_key_hash": key_hash(key),
        "risk_limits": RiskLimits(max_order_notional=Decimal("2500.50"), max_open_orders=7),
        "created_at": 123,
    }
    return Account(**{**fields, **overrides})


async def test_an_account_is_found_by_id_and_by_key_hash(store):
    acc = account(roles=("trader", "admin"), type=AccountType.LIVE)
    await store.accounts.create(acc)

    assert await store.accounts.get("acc-1") == acc
    assert await store.accounts.get_by_api_key_hash(key_hash("key-1")) == acc
    assert await store.accounts.get_by_api_key_hash(key_hash("unknown")) is None
    assert await store.accounts.list_accounts() == [acc]


async def test_a_key_hash_belongs_to_one_account(store):
    await store.accounts.create(account("acc-1", "shared-key"))

    with pytest.raises(DuplicateApiKey):
        await store.accounts.create(account("acc-2", "shared-key"))

    assert await store.accounts.get("acc-2") is None
    assert [a.account_id for a in await store.accounts.list_accounts()] == ["acc-1"]


async def test_an_account_id_is_created_once(store):
    await store.accounts.create(account("acc-1", "key-1"))

    with pytest.raises(DuplicateAccount):
        await store.accounts.create(account("acc-1", "key-2"))

    assert await store.accounts.get_by_api_key_hash(key_hash("key-2")) is None


async def test_an_account_update_checks_the_version(store):
    acc = account()
    await store.accounts.create(acc)
    assert await store.accounts.get_by_api_key_hash(acc.api_key_hash) == acc  # read, then...
    halted = dataclasses.replace(acc, trading_state=TradingState.HALTED)

    stored = await store.accounts.update(halted, expected_version=0)
    # ...the next read sees the change at once (no stale copy of a read document)
    assert (await store.accounts.get_by_api_key_hash(acc.api_key_hash)) == stored
    with pytest.raises(VersionConflict):
        await store.accounts.update(dataclasses.replace(acc, name="stale"), expected_version=0)

    assert stored.version == 1
    assert await store.accounts.get("acc-1") == stored
    with pytest.raises(NotFound):
        await store.accounts.update(account("acc-9"), expected_version=0)


async def test_a_rotated_key_replaces_the_old_one(store):
    acc = account(key="old")
    await store.accounts.create(acc)
    await store.accounts.create(account("acc-2", "taken"))

    rotated = await store.accounts.update(
        dataclasses.replace(acc, api_key_hash=key_hash("new")), expected_version=0
    )
    with pytest.raises(DuplicateApiKey):
        await store.accounts.update(
            dataclasses.replace(rotated, api_key_hash=key_hash("taken")), expected_version=1
        )

    assert await store.accounts.get_by_api_key_hash(key_hash("old")) is None
    assert await store.accounts.get_by_api_key_hash(key_hash("new")) == rotated
    await store.accounts.create(account("acc-3", "old"))  # the old key is free again


async def test_instruments_are_created_once_and_changed_by_version(store):
    aapl = Instrument("AAPL", Decimal("0.01"), Decimal("1"), reference_price=15_000)
    msft = Instrument("MSFT", Decimal("0.05"), Decimal("0.5"), maker_fee_cbps=-20)
    await store.instruments.create(msft)
    await store.instruments.create(aapl)
    assert await store.instruments.get("AAPL") == aapl
    with pytest.raises(DuplicateInstrument):  # a second creator of the symbol
        await store.instruments.create(dataclasses.replace(aapl, tick_size=Decimal("0.05")))
    assert await store.instruments.get("AAPL") == aapl

    halted = await store.instruments.update(aapl.with_state(TradingState.HALTED), 0)
    assert halted == dataclasses.replace(aapl, trading_state=TradingState.HALTED, version=1)
    assert await store.instruments.get("AAPL") == halted
    with pytest.raises(VersionConflict) as stale:  # a writer that read version 0
        await store.instruments.update(dataclasses.replace(aapl, maker_fee_cbps=5), 0)
    assert stale.value.actual_version == 1
    assert await store.instruments.get("AAPL") == halted
    with pytest.raises(NotFound):
        await store.instruments.update(Instrument("TSLA", Decimal("1"), Decimal("1")), 0)

    assert await store.instruments.get("TSLA") is None
    assert [i.symbol for i in await store.instruments.list_instruments()] == ["AAPL", "MSFT"]


async def test_an_instruments_trading_session_is_kept(store):
    overnight = TradingSession(18 * 60, 17 * 60, "America/Chicago", days=(0, 1, 2, 3, 6))
    futures = Instrument("ES", Decimal("0.25"), Decimal("1"), session=overnight)
    shares = Instrument(
        "AAPL", Decimal("0.01"), Decimal("1"), session=TradingSession(570, 960, "America/New_York")
    )
    await store.instruments.create(futures)
    await store.instruments.create(shares)

    assert await store.instruments.get("ES") == futures
    assert await store.instruments.get("AAPL") == shares
    around_the_clock = dataclasses.replace(shares, session=None)
    stored = await store.instruments.update(around_the_clock, shares.version)
    assert stored == dataclasses.replace(around_the_clock, version=shares.version + 1)
    assert await store.instruments.get("AAPL") == stored


def test_an_instrument_stored_before_sessions_trades_around_the_clock():
    doc = instrument_to_doc(Instrument("AAPL", Decimal("0.01"), Decimal("1")))
    del doc["session"]
    assert instrument_from_doc(doc).session is None


async def test_the_first_response_to_an_idempotency_key_is_kept(store):
    first = await store.idempotency.put_if_absent("acc-1", "k1", "h1", 202, b'{"a":1}', 5)
    again = await store.idempotency.put_if_absent("acc-1", "k1", "h2", 409, b"other", 6)
    other_account = await store.idempotency.put_if_absent("acc-2", "k1", "h3", 202, b"x")

    assert again == first
    assert first.body == b'{"a":1}' and first.status_code == 202
    assert other_account.request_hash == "h3" and other_account.created_at > 0
    assert await store.idempotency.get("acc-1", "k1") == first
    assert await store.idempotency.get("acc-1", "k2") is None


async def test_feed_streams_hand_out_each_number_once_under_one_epoch(store):
    assert await store.feeds.position("account:acc-1") is None
    first = await store.feeds.advance("account:acc-1", 0)  # a reader gets the epoch first
    assert first.seq == 0
    positions = await asyncio.gather(*(store.feeds.advance("account:acc-1", 2) for _ in range(8)))
    assert {p.epoch for p in positions} == {first.epoch}
    assert sorted(p.seq for p in positions) == list(range(2, 17, 2))  # no block handed twice
    assert await store.feeds.position("account:acc-1") == FeedPosition(first.epoch, 16)
    other = await store.feeds.advance("account:acc-2", 1)
    assert other.seq == 1 and other.epoch != first.epoch
