"""Fair reads: one account's page reads cannot take the process from everyone else.

A page of orders or executions (up to 500 rows) costs milliseconds of CPU on the event loop
(decode, render, serialize), in one go: nothing in it waits. A client that asks for a
hundred pages at once puts a hundred such requests in every turn of the loop, and every
other request in the process (a health probe on a new connection, another account's order)
takes a few turns, each waiting behind all of them: seconds. So page reads pass a gate:

- at most `PER_ACCOUNT` of an account's page reads run in one turn of the loop, and at most
  `TOTAL` page reads of any accounts: a place a read frees is handed to the next waiting
  read at the next turn, after everything else that was ready has run. So a turn holds a
  few page reads at most, whatever the clients send;
- an account's reads wait their turn first come first served; up to `WAITING_PER_ACCOUNT`
  of them may wait, and past that a read is refused at once with 429 READ_LIMIT_EXCEEDED
  and Retry-After (a client that asks for more than it can read is told so).

Cheap reads (one order, one instrument) do not pass the gate. The gate is per process:
in Azure each Function App instance protects its own event loop, which is what a starved
request waits for; a client spread over many instances is still held to `PER_ACCOUNT`
page reads per turn on each.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared.services.errors import RateLimited

READ_LIMIT_EXCEEDED = "READ_LIMIT_EXCEEDED"
PER_ACCOUNT = 2
WAITING_PER_ACCOUNT = 32
TOTAL = 8
RETRY_AFTER_SECONDS = 1.0


class _Places:
    """`size` places; one given back goes to the first waiter at the next turn of the loop
    (or back on the shelf when nobody waits)."""

    __slots__ = ("free", "size", "waiters")

    def __init__(self, size: int) -> None:
        self.size = size
        self.free = size
        self.waiters: deque[asyncio.Future[None]] = deque()

    @property
    def idle(self) -> bool:
        return self.free == self.size and not self.waiters

    async def take(self) -> None:
        if self.free > 0 and not self.waiters:
            self.free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.hand_on()  # handed a place as it was cancelled: pass it on
            else:
                self.waiters.remove(waiter)
            raise

    def give_back(self) -> None:
        asyncio.get_running_loop().call_soon(self.hand_on)

    def hand_on(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


class ReadGate:
    """`async with gate.admit(account_id):` around a page read (see the module docstring)."""

    def __init__(
        self,
        per_account: int = PER_ACCOUNT,
        waiting_per_account: int = WAITING_PER_ACCOUNT,
        total: int = TOTAL,
    ) -> None:
        self.per_account = per_account
        self.waiting_per_account = waiting_per_account
        self._accounts: dict[str, _Places] = {}
        self._total = _Places(total)

    def running(self, account_id: str) -> int:
        """How many of the account's page reads hold a place now."""
        places = self._accounts.get(account_id)
        return 0 if places is None else places.size - places.free

    @asynccontextmanager
    async def admit(self, account_id: str) -> AsyncIterator[None]:
        """Wait for the account's turn and a free place; RateLimited when too many of the
        account's reads wait already."""
        places = self._accounts.get(account_id)
        if places is None:
            places = self._accounts[account_id] = _Places(self.per_account)
        if places.free == 0 and len(places.waiters) >= self.waiting_per_account:
            raise RateLimited(
                READ_LIMIT_EXCEEDED,
                f"more than {self.per_account + self.waiting_per_account} page reads of this"
                " account at once; wait for the answers before asking for more",
                RETRY_AFTER_SECONDS,
            )
        try:
            await places.take()
        except asyncio.CancelledError:
            self._forget_if_idle(account_id, places)
            raise
        try:
            await self._total.take()
            try:
                yield
            finally:
                self._total.give_back()
        finally:
            places.give_back()
            asyncio.get_running_loop().call_soon(self._forget_if_idle, account_id, places)

    def _forget_if_idle(self, account_id: str, places: _Places) -> None:
        if places.idle and self._accounts.get(account_id) is places:
            del self._accounts[account_id]
