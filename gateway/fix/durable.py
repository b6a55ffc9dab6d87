"""A FIX session's sequence numbers kept in the store, so that a gateway replica that replaces
another one (whose disk, and QuickFIX's FileStore on it, is gone) continues the venue's
session instead of resetting it (a reset would discard the venue's resend of what it sent
while no one was connected).

What is kept (`FixSessionState`):
- outgoing: a floor below which every sequence number may have been used. Numbers are
  reserved in blocks: the floor is moved `block` numbers ahead of the session before the
  session gets near it, so sending writes to the store once per block, never per message.
  A replica restoring the session sends from the floor; the venue sees a gap, asks for it,
  and QuickFIX answers with a gap fill (it has none of those messages). A message may
  never go out at or past the durable floor: the connector holds it until the next block is
  written (`DurableSession.reserve`).
- incoming: the next sequence number expected, written every `sync_every` seconds (and at
  logout and stop). It may lag behind what was taken, never run ahead (QuickFIX counts a
  message only once our sink took it), so a restored session is resent a few reports,
  flagged PossDupFlag=Y, and consumers apply each execution id once.

Which copy wins at start: a local store whose id (a file beside QuickFIX's) wrote the
state last is exact and is used as it is; otherwise (no local store: a new replica; or
another replica held the venue since) the state in the store is written into a fresh
QuickFIX store before the initiator starts. QuickFIX's own creation time goes along, so a
session whose period has ended is still reset by QuickFIX's schedule, as without us.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import quickfix as fix

from gateway.fix.session import SessionConfig
from shared.ports.store_errors import VersionConflict
from shared.ports.store_venues import FixSessionState, VenueRepository

log = logging.getLogger(__name__)

NS = 1_000_000_000
STORE_ID_FILE = "session-store-id"


@dataclass(frozen=True, slots=True)
class LocalSession:
    """What QuickFIX's FileStore holds: next numbers to send and to receive, and when this
    sequence lifetime began (ns, whole seconds: the precision QuickFIX keeps)."""

    next_sender: int
    next_target: int
    created_at: int


def timestamp_ns(stamp: Any) -> int:
    moment = datetime(
        stamp.getYear(),
        stamp.getMonth(),
        stamp.getDay(),
        stamp.getHour(),
        stamp.getMinute(),
        stamp.getSecond(),
        tzinfo=UTC,
    )
    return int(moment.timestamp()) * NS


def _utc_timestamp(ns: int) -> Any:
    moment = datetime.fromtimestamp(ns // NS, UTC)
    return fix.UtcTimeStamp(
        moment.hour, moment.minute, moment.second, 0, moment.day, moment.month, moment.year
    )


def created_at(config: SessionConfig) -> int:
    """When the local store's sequence lifetime began (ns), from the file QuickFIX keeps it
    in (its Python binding does not expose a running session's store); 0 if unreadable."""
    name = f"{config.begin_string}-{config.sender_comp_id}-{config.target_comp_id}.session"
    try:
        text = (config.store_dir / name).read_text().strip()
        moment = datetime.strptime(text[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    except (OSError, ValueError):
        return 0
    return int(moment.timestamp()) * NS


def session_key(venue: str, config: SessionConfig) -> str:
    """The state's key: one per venue and FIX session (CompIDs and version)."""
    return f"{venue}/{config.begin_string}:{config.sender_comp_id}->{config.target_comp_id}"


def read_local(config: SessionConfig) -> LocalSession:
    """The local QuickFIX store's numbers (a new, empty store if there is none). Blocking
    file I/O: call it off the event loop, before the initiator exists."""
    factory = fix.FileStoreFactory(config.session_settings())
    store = factory.create(fix.UtcTimeStamp(), config.session_id())
    try:
        return LocalSession(
            int(store.getNextSenderMsgSeqNum()),
            int(store.getNextTargetMsgSeqNum()),
            timestamp_ns(store.getCreationTime()),
        )
    finally:
        factory.destroy(store)


def write_local(config: SessionConfig, state: LocalSession) -> None:
    """Replace the local QuickFIX store by `state` (no messages: the venue's resend request
    for our part of the gap is answered with a gap fill). Blocking file I/O."""
    factory = fix.FileStoreFactory(config.session_settings())
    store = factory.create(_utc_timestamp(state.created_at), config.session_id())
    try:
        store.reset(_utc_timestamp(state.created_at))
        store.setNextSenderMsgSeqNum(state.next_sender)
        store.setNextTargetMsgSeqNum(state.next_target)
    finally:
        factory.destroy(store)


def local_store_id(store_dir: Path) -> tuple[str, bool]:
    """This local store's id, made on first use; and whether it existed before."""
    path = store_dir / STORE_ID_FILE
    try:
        return path.read_text().strip(), True
    except FileNotFoundError:
        store_dir.mkdir(parents=True, exist_ok=True)
        made = uuid.uuid4().hex
        path.write_text(made + "\n")
        return made, False


class DurableSession:
    """One FIX session's state in the store, driven by its connector: `restore` before the
    initiator starts, `reserve` when a message would reach the floor, `sync` now and then.
    Loop-side only, except the attributes the QuickFIX threads read (`floor`, `block`)."""

    def __init__(
        self,
        sessions: VenueRepository,
        key: str,
        *,
        block: int = 1000,
        sync_every: float = 1.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if block < 2:
            raise ValueError("reserve at least two sequence numbers at a time")
        self._sessions = sessions
        self.key = key
        self.block = block
        self.sync_every = sync_every
        self._clock = clock
        self._lock = asyncio.Lock()
        self._state: FixSessionState | None = None
        self.owner = ""
        self.floor = 0  # read by QuickFIX's threads: nothing at or past it may be sent
        self.restored = False  # the local store was rebuilt from the store's copy
        self.writes = 0

    @property
    def state(self) -> FixSessionState | None:
        return self._state

    async def restore(self, config: SessionConfig, run: Callable[..., Any]) -> LocalSession:
        """Make the local QuickFIX store continue the session (see the module's doc) and
        reserve the first block. `run(function, *args)` runs blocking file work off the
        loop. Returns the numbers the session starts from."""
        self.owner, existed = await run(local_store_id, config.store_dir)
        stored = await self._sessions.session_state(self.key)
        local: LocalSession = await run(read_local, config)
        if stored is not None and not (existed and stored.owner == self.owner):
            local = LocalSession(stored.next_sender_floor, stored.next_target, stored.created_at)
            await run(write_local, config, local)
            local = await run(read_local, config)
            self.restored = True
            log.warning(
                "%s: session restored from the store: next out %d, next in %d",
                self.key,
                local.next_sender,
                local.next_target,
            )
        async with self._lock:
            self._state = stored
            floor = local.next_sender + self.block
            if stored is not None and stored.created_at == local.created_at:
                floor = max(floor, stored.next_sender_floor)
            target = local.next_target
            await self._save(local.created_at, floor, target)
        return local

    async def reserve(self, seq: int) -> bool:
        """Make `seq` sendable: move the floor a block past it (one store write). True when
        the floor is past `seq`."""
        async with self._lock:
            state = self._state
            if state is None:
                return False
            if seq + self.block // 2 >= state.next_sender_floor:
                await self._save(state.created_at, seq + self.block, state.next_target)
            return seq < self.floor

    async def sync(self, current: LocalSession) -> None:
        """Record the session's numbers as they are now: a new sequence lifetime (QuickFIX
        reset the session) replaces the state; otherwise the incoming number moves up and
        the floor moves a block ahead when the session gets within half a block of it."""
        async with self._lock:
            state = self._state
            if state is None:
                return
            if current.created_at and current.created_at != state.created_at:
                log.warning("%s: a new sequence lifetime began (session reset)", self.key)
                floor = current.next_sender + self.block
                await self._save(current.created_at, floor, current.next_target)
                return
            floor = state.next_sender_floor
            if current.next_sender + self.block // 2 >= floor:
                floor = current.next_sender + self.block
            target = max(state.next_target, current.next_target)
            if (floor, target) != (state.next_sender_floor, state.next_target):
                await self._save(state.created_at, floor, target)

    async def _save(self, created_at: int, floor: int, target: int) -> None:
        """A conditional write from the copy last read or written; on a conflict (a replica
        that held the venue before us and has not noticed yet) never go back: keep the
        higher numbers of both."""
        for _ in range(5):
            base = self._state
            new = FixSessionState(
                key=self.key,
                created_at=created_at,
                next_sender_floor=floor,
                next_target=target,
                owner=self.owner,
                updated_at=self._clock(),
            )
            try:
                self._state = await self._sessions.save_session_state(
                    new, base.version if base is not None else 0
                )
                self.writes += 1
                self.floor = self._state.next_sender_floor
                return
            except VersionConflict:
                latest = await self._sessions.session_state(self.key)
                log.error(
                    "%s: the session state was changed by %s meanwhile; keeping the higher numbers",
                    self.key,
                    latest.owner if latest else "?",
                )
                self._state = latest
                if latest is not None and latest.created_at == created_at:
                    floor = max(floor, latest.next_sender_floor)
                    target = max(target, latest.next_target)
        raise RuntimeError(f"{self.key}: the session state keeps changing")
