"""The cache on Redis (Azure Cache for Redis in Azure), with redis-py's asyncio client.

Atomic operations run as Lua scripts. With `REDIS_USE_ENTRA_ID` the client authenticates
with a Microsoft Entra token (scope https://redis.azure.com/.default; user name = the
token's `oid` claim) from the managed identity: the cache has access keys disabled.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from redis.credentials import CredentialProvider

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

ENTRA_SCOPE = "https://redis.azure.com/.default"

_SET_VERSIONED = """
local v = redis.call('HGET', KEYS[1], 'v')
if v and tonumber(v) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3])
else redis.call('PERSIST', KEYS[1]) end
return 1
"""

_INCR = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

_TAKE_TOKEN = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local take = tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(b[1])
local last = tonumber(b[2])
if tokens == nil or last == nil then tokens = burst; last = now end
tokens = math.min(burst, tokens + math.max(0, now - last) / 1e9 * rate)
local ok = 0
if tokens >= math.max(take, 1) then ok = 1; tokens = tokens - take end
if take > 0 then
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(math.max(now, last)))
  redis.call('PEXPIRE', KEYS[1], math.ceil(burst / math.max(rate, 0.001) * 1000) + 1000)
end
return ok
"""


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def _ms(ttl_seconds: float | None) -> int:
    return 0 if ttl_seconds is None else max(1, int(ttl_seconds * 1000))


class EntraIdCredentialProvider(CredentialProvider):
    """Redis AUTH with an Entra token; the token is cached until five minutes before expiry."""

    def __init__(self, credential: AsyncTokenCredential) -> None:
        self._credential = credential
        self._user = ""
        self._token = ""
        self._expires_on = 0.0

    def get_credentials(self) -> tuple[str, str]:
        if not self._token:
            raise RuntimeError("Entra ID credentials are only available to the asyncio client")
        return self._user, self._token

    async def get_credentials_async(self) -> tuple[str, str]:
        if time.time() > self._expires_on - 300:
            access = await self._credential.get_token(ENTRA_SCOPE)
            self._token, self._expires_on = access.token, float(access.expires_on)
            self._user = _token_object_id(access.token)
        return self._user, self._token

    async def close(self) -> None:
        await self._credential.close()


def _token_object_id(token: str) -> str:
    """The `oid` claim of a JWT (no signature check: it only names the Redis user)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return str(claims["oid"])


class RedisCache:
    """The Cache port on Redis. Build it with `from_url`; it connects on first use."""

    def __init__(
        self, client: aioredis.Redis, credentials: EntraIdCredentialProvider | None = None
    ) -> None:
        self._redis = client
        self._credentials = credentials
        self._set_versioned = client.register_script(_SET_VERSIONED)
        self._incr = client.register_script(_INCR)
        self._take_token = client.register_script(_TAKE_TOKEN)

    @classmethod
    def from_url(
        cls, url: str, *, use_entra_id: bool = False, client_id: str | None = None
    ) -> RedisCache:
        credentials: EntraIdCredentialProvider | None = None
        options: dict[str, Any] = {"health_check_interval": 30, "socket_timeout": 5.0}
        if use_entra_id:
            from azure.identity.aio import DefaultAzureCredential

            credentials = EntraIdCredentialProvider(
                DefaultAzureCredential(managed_identity_client_id=client_id)
            )
            options["credential_provider"] = credentials
        client = aioredis.Redis.from_url(url, **options)
        return cls(client, credentials)

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(key)
        return None if value is None else _bytes(value)

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        await self._redis.set(key, value, px=_ms(ttl_seconds) or None)

    async def delete(self, key: str) -> None:
        await self._redis.delete(key)

    async def get_versioned(self, key: str) -> tuple[int, bytes] | None:
        version, value = await self._redis.hmget(key, ["v", "d"])
        if version is None or value is None:
            return None
        return int(version), _bytes(value)

    async def set_versioned(
        self, key: str, version: int, value: bytes, ttl_seconds: float | None = None
    ) -> bool:
        stored = await self._set_versioned(keys=[key], args=[version, value, _ms(ttl_seconds)])
        return bool(stored)

    async def incr(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        return int(await self._incr(keys=[key], args=[amount, _ms(ttl_seconds)]))

    async def take_token(
        self, key: str, rate_per_second: float, burst: int, now_ns: int, take: int = 1
    ) -> bool:
        allowed = await self._take_token(keys=[key], args=[rate_per_second, burst, now_ns, take])
        return bool(allowed)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()
        if self._credentials is not None:
            await self._credentials.close()
