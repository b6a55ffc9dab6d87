"""The account feed as a SignalR client (JSON hub protocol over WebSockets) of SignalR
Service, or of any endpoint that speaks its client protocol (the local hub): the notifier
issues the account's client URL and access token (`Notifier.client_access`, with Entra ID
through `:generateToken` in Azure), then negotiate, the WebSocket, the handshake, and a
ping every 15 seconds so the service keeps the connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from shared.ports.account_feed import FeedMessage
from shared.ports.notifier import Notifier, NotifierError
from shared.signalr_hub import protocol as p

PING_SECONDS = 15.0


class SignalRClientFeed:
    def __init__(self, notifier: Notifier, timeout: float = 10.0) -> None:
        self._notifier = notifier
        self._timeout = timeout

    async def _socket_url(self, client_url: str, token: str) -> str:
        """Negotiate (following one redirect); the WebSocket URL of the connection."""
        for _ in range(2):
            parts = urlsplit(client_url)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
            negotiate = f"{base}/negotiate?{urlencode({**query, 'negotiateVersion': '1'})}"
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                answer = await http.post(negotiate, headers={"Authorization": f"Bearer {token}"})
            if answer.status_code >= 300:
                raise NotifierError(f"negotiate: {answer.status_code} {answer.text[:200]}")
            body = answer.json()
            if "url" in body:  # a redirect to the service, with its own token
                client_url, token = str(body["url"]), str(body.get("accessToken", token))
                continue
            connection = str(body.get("connectionToken") or body["connectionId"])
            scheme = "wss" if parts.scheme == "https" else "ws"
            params = urlencode({**query, "id": connection, "access_token": token})
            return f"{scheme}://{parts.netloc}{parts.path}?{params}"
        raise NotifierError("negotiate redirected more than once")

    @contextlib.asynccontextmanager
    async def listen(self, account_id: str) -> AsyncIterator[AsyncIterator[FeedMessage]]:
        access = await self._notifier.client_access(account_id)
        url = await self._socket_url(access.url, access.access_token)
        async with connect(url, open_timeout=self._timeout, max_size=2**22) as socket:
            await socket.send(f'{{"protocol":"json","version":1}}{p.RS}')
            reply = await asyncio.wait_for(socket.recv(), self._timeout)
            text = reply if isinstance(reply, str) else reply.decode()
            records, rest = p.split_records(text)
            if not records or p.parse_record(records[0]).get("error"):
                raise NotifierError(f"handshake refused: {text[:200]}")
            pinger = asyncio.create_task(_ping(socket))
            try:
                yield _messages(
                    socket, p.RS.join(records[1:]) + (p.RS if records[1:] else "") + rest
                )
            finally:
                pinger.cancel()


async def _ping(socket: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.sleep(PING_SECONDS)
            await socket.send(p.PING_RECORD)


async def _messages(socket: ClientConnection, buffer: str) -> AsyncIterator[FeedMessage]:
    while True:
        records, buffer = p.split_records(buffer)
        for record in records:
            message = p.parse_record(record)
            kind = message.get("type")
            if kind == p.CLOSE:
                return
            if kind == p.INVOCATION and message.get("arguments"):
                yield FeedMessage(str(message["target"]), message["arguments"][0])
        try:
            data = await socket.recv()
        except ConnectionClosed:
            return
        buffer += data if isinstance(data, str) else data.decode()
