"""A tiny HTTP health endpoint for the container's probes (asyncio streams, no framework).

Any request gets `200 ok` while the check passes and `503 unavailable` otherwise (shutting
down, or a fatal error); a plain TCP probe only needs the port to accept connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class HealthServer:
    """Serves `check()` on host:port until closed."""

    def __init__(self, check: Callable[[], bool], host: str = "0.0.0.0", port: int = 8080) -> None:
        self._check = check
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                # Read the request head (if any); a bare TCP probe just connects and leaves.
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=2.0)
            ok = self._check()
            body = b"ok\n" if ok else b"unavailable\n"
            status = b"200 OK" if ok else b"503 Service Unavailable"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
            )  # fmt: skip
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
