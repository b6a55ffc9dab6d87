"""The Python `signalrcore` client (JSON protocol) of the live feeds, for the e2e tests:
it negotiates through `POST {negotiate_base}/negotiate` with the account's X-API-Key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import socket
import threading
from typing import Any

from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

from tests.e2e.support import Account, LocalOms

TARGETS = ["orderUpdated", "executionReported", "trade", "book", "auditRecorded"]


class PyClient:
    def __init__(self, negotiate_base: str, headers: dict[str, str]) -> None:
        self.inbox: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.opened = threading.Event()
        self.connection = (
            HubConnectionBuilder()
            .with_url(negotiate_base, options={"headers": headers})
            .with_hub_protocol(JsonHubProtocol())
            .configure_logging(logging.WARNING)
            .build()
        )
        self.connection.on_open(self.opened.set)
        for target in TARGETS:
            self.connection.on(target, self._handler(target))

    @classmethod
    def of(cls, oms: LocalOms, account: Account) -> PyClient:
        return cls(oms.negotiate_base, account.headers)

    def _handler(self, target: str) -> Any:
        def handle(args: list[Any]) -> None:
            self.inbox.put((target, args[0]))

        return handle

    async def start(self) -> None:
        await asyncio.to_thread(self.connection.start)
        assert await asyncio.to_thread(self.opened.wait, 10), "signalrcore did not connect"

    def stop(self) -> None:
        # signalrcore 1.0.2's stop() joins its receive thread, which stays blocked in recv();
        # shutting the socket down first wakes it.
        client = getattr(self.connection.transport, "_client", None)
        if client is not None and client.sock is not None:
            with contextlib.suppress(OSError):
                client.sock.shutdown(socket.SHUT_RDWR)
        self.connection.stop()

    async def until(self, done: Any, timeout: float = 10.0) -> list[tuple[str, dict[str, Any]]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(self.got):
            wait = max(0.01, deadline - loop.time())
            self.got.append(await asyncio.to_thread(self.inbox.get, True, wait))
        return self.got

    async def drain(self, quiet: float = 0.3) -> list[tuple[str, dict[str, Any]]]:
        with contextlib.suppress(queue.Empty):
            while True:
                self.got.append(await asyncio.to_thread(self.inbox.get, True, quiet))
        return self.got
