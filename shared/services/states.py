"""Trading states (the kill switch) of the three scopes: everything, an account, an instrument.

The global state lives in the instruments store as the reserved row `*` (no real symbol can
be `*`), so it needs no store of its own; listings leave it out.

An instrument's state lives in two places: the store (the risk check reads it) and the
matcher (which rejects and cancels by it). A change is stored first, conditionally (marked
`state_pending`), then sent; `sync_instrument_state` then reads the stored state again and
sends once more whenever it changed meanwhile, until the state it sent last is the one
stored. So however changes race (two admins, a halt and a PATCH), the last SetTradingState
the matcher gets is the stored state: every store write of a state is followed by its
writer's send, and a writer stops only after a read that agrees with its last send, so no
store write can follow the last send unseen. A send that fails leaves `state_pending` set,
and the outbox sweep sends the state until it goes through.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from shared.domain.commands import SetTradingState
from shared.domain.enums import TradingState
from shared.domain.ids import new_command_id
from shared.domain.instrument import Instrument
from shared.ports.store import Store
from shared.ports.store_errors import DuplicateInstrument, NotFound, VersionConflict
from shared.services.deps import Deps
from shared.services.dispatch import send_commands

GLOBAL_SYMBOL = "*"
ATTEMPTS = 50  # conditional writes retried from a fresh read before giving up

log = logging.getLogger(__name__)


class StateChanging(Exception):
    """The stored state kept changing under every attempt (50 in a row)."""


async def global_state(store: Store) -> TradingState:
    row = await store.instruments.get(GLOBAL_SYMBOL)
    return TradingState.ACTIVE if row is None else row.trading_state


async def set_global_state(store: Store, state: TradingState) -> None:
    for _ in range(ATTEMPTS):
        row = await store.instruments.get(GLOBAL_SYMBOL)
        try:
            if row is None:
                new = Instrument(GLOBAL_SYMBOL, Decimal(1), Decimal(1), trading_state=state)
                await store.instruments.create(new)
            else:
                await store.instruments.update(row.with_state(state), row.version)
            return
        except (DuplicateInstrument, VersionConflict):
            continue
    raise StateChanging(GLOBAL_SYMBOL)


async def store_instrument_state(deps: Deps, symbol: str, state: TradingState) -> Instrument:
    """Store the instrument's new state (marked pending until the matcher has it)."""
    for _ in range(ATTEMPTS):
        instrument = await deps.store.instruments.get(symbol)
        if instrument is None:
            raise NotFound(symbol)
        changed = replace(instrument, trading_state=state, state_pending=True)
        try:
            return await deps.store.instruments.update(changed, instrument.version)
        except VersionConflict:
            continue
    raise StateChanging(symbol)


async def sync_instrument_state(deps: Deps, symbol: str) -> Instrument:
    """Send the stored state to the matcher until the state sent last is still the one
    stored, then clear `state_pending`; returns the instrument as stored then. A failed
    send raises (the mark stays set: the sweep tries again)."""
    for _ in range(ATTEMPTS):
        instrument = await deps.store.instruments.get(symbol)
        if instrument is None:
            raise NotFound(symbol)
        state = instrument.trading_state
        await send_commands(
            deps, [SetTradingState(new_command_id(), deps.clock(), symbol, state.value)]
        )
        latest = await deps.store.instruments.get(symbol)
        if latest is None:
            raise NotFound(symbol)
        if latest.trading_state is not state:
            continue  # changed meanwhile: our send may have overtaken its writer's
        if not latest.state_pending:
            return latest
        try:
            return await deps.store.instruments.update(
                replace(latest, state_pending=False), latest.version
            )
        except VersionConflict:
            continue
    raise StateChanging(symbol)


async def resend_pending_states(deps: Deps) -> int:
    """The sweep's share: sync every instrument whose state may not have reached the
    matcher; returns how many were synced."""
    synced = 0
    for instrument in await deps.store.instruments.list_instruments():
        if instrument.state_pending and instrument.symbol != GLOBAL_SYMBOL:
            try:
                await sync_instrument_state(deps, instrument.symbol)
            except Exception:
                log.warning("%s: trading state still not sent; next sweep", instrument.symbol)
                continue
            synced += 1
    return synced
