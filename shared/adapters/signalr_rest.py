"""The notifier on the SignalR Service data-plane REST API (version 2022-06-01).

Works unchanged against Azure SignalR Service and the local hub (`shared.signalr_hub`).
Authentication is an access-key JWT (HS256, `aud` = request URL without query) or, with no
access key, an Entra ID token for `https://signalr.azure.com/.default` from
`DefaultAzureCredential` (the Function App's and matcher's managed identity).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from shared.ports.notifier import ClientAccess, NotifierError, UnknownConnectionError
from shared.signalr_hub.tokens import client_url, rest_audience, sign_token

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

API_VERSION = "2022-06-01"
TOKEN_API_VERSION = "2023-07-01"  # first version with :generateToken
ENTRA_SCOPE = "https://signalr.azure.com/.default"


class AccessKeyAuth:
    """Access-key JWTs, signed here; also signs client tokens without a network call."""

    def __init__(self, access_key: str, ttl_seconds: int = 300) -> None:
        self.access_key = access_key
        self._ttl = ttl_seconds

    async def authorization(self, url: str) -> str:
        token = sign_token(self.access_key, rest_audience(url), ttl_seconds=self._ttl)
        return f"Bearer {token}"


class EntraIdAuth:
    """Entra ID tokens from an Azure credential, cached until five minutes before expiry."""

    def __init__(self, credential: AsyncTokenCredential) -> None:
        self._credential = credential
        self._token = ""
        self._expires_on = 0.0

    async def authorization(self, url: str) -> str:
        if time.time() > self._expires_on - 300:
            access = await self._credential.get_token(ENTRA_SCOPE)
            self._token, self._expires_on = access.token, float(access.expires_on)
        return f"Bearer {self._token}"

    async def close(self) -> None:
        await self._credential.close()


def _seg(value: str) -> str:
    return quote(value, safe="")


class SignalRRestNotifier:
    """The Notifier port over HTTP. Call `aclose()` when done."""

    def __init__(
        self,
        endpoint: str,
        hub: str,
        auth: AccessKeyAuth | EntraIdAuth,
        *,
        client: httpx.AsyncClient | None = None,
        client_token_ttl: int = 3600,
        timeout: float = 10.0,
    ) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._hub = hub
        self._auth = auth
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._client_ttl = client_token_ttl

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:  # created on first use: nothing connects at construction
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, str] | None = None,
        api_version: str = API_VERSION,
    ) -> httpx.Response:
        url = f"{self._endpoint}/api/hubs/{_seg(self._hub)}{path}"
        headers = {"Authorization": await self._auth.authorization(url)}
        query = {**(params or {}), "api-version": api_version}
        try:
            response = await self._http().request(
                method, url, params=query, json=json, headers=headers
            )
        except httpx.HTTPError as exc:
            raise NotifierError(f"{method} {url}: {exc}") from exc
        if response.status_code == 404 and "/connections/" in path:
            raise UnknownConnectionError(path.rsplit("/", 1)[-1])
        if response.status_code >= 300:
            raise NotifierError(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    async def send_to_user(self, user_id: str, target: str, args: Sequence[object]) -> None:
        body = {"target": target, "arguments": list(args)}
        await self._call("POST", f"/users/{_seg(user_id)}/:send", json=body)

    async def send_to_group(self, group: str, target: str, args: Sequence[object]) -> None:
        body = {"target": target, "arguments": list(args)}
        await self._call("POST", f"/groups/{_seg(group)}/:send", json=body)

    async def send_to_all(self, target: str, args: Sequence[object]) -> None:
        await self._call("POST", "/:send", json={"target": target, "arguments": list(args)})

    async def add_user_to_group(self, user_id: str, group: str) -> None:
        await self._call("PUT", f"/users/{_seg(user_id)}/groups/{_seg(group)}")

    async def remove_user_from_group(self, user_id: str, group: str) -> None:
        await self._call("DELETE", f"/users/{_seg(user_id)}/groups/{_seg(group)}")

    async def add_connection_to_group(self, connection_id: str, group: str) -> None:
        await self._call("PUT", f"/groups/{_seg(group)}/connections/{_seg(connection_id)}")

    async def remove_connection_from_group(self, connection_id: str, group: str) -> None:
        path = f"/groups/{_seg(group)}/connections/{_seg(connection_id)}"
        with contextlib.suppress(UnknownConnectionError):  # gone already: it is in no group
            await self._call("DELETE", path)

    def reaches_user(self, user_id: str) -> bool:
        return True  # the service knows its connections; asking would cost a request

    async def client_access(self, user_id: str) -> ClientAccess:
        url = client_url(self._endpoint, self._hub)
        if isinstance(self._auth, AccessKeyAuth):
            key = self._auth.access_key
            return ClientAccess(url, sign_token(key, url, user_id=user_id, ttl_seconds=3600))
        minutes = str(max(1, self._client_ttl // 60))
        response = await self._call(
            "POST",
            "/:generateToken",
            params={"userId": user_id, "minutesToExpire": minutes},
            api_version=TOKEN_API_VERSION,
        )
        token = response.json().get("token")
        if not isinstance(token, str) or not token:
            raise NotifierError("generateToken returned no token")
        return ClientAccess(url, token)

    async def aclose(self) -> None:
        """Close the HTTP client (if this notifier made it) and the credential."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None
        if isinstance(self._auth, EntraIdAuth):
            await self._auth.close()
