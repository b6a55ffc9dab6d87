"""An optional demo market for the local run: a seeded market maker quoting every instrument
around a random-walking mid, and a few random traders hitting it, all through the public
HTTP API, so a newcomer sees orders fill, trades print and books move."""

from __future__ import annotations

import asyncio
import logging
import random
from decimal import Decimal

import aiohttp

from localrun.seed import LocalKeys

log = logging.getLogger(__name__)


async def _account(session: aiohttp.ClientSession, url: str, admin: str, name: str) -> str:
    body = {"name": name, "type": "live"}
    async with session.post(
        f"{url}/api/admin/accounts", json=body, headers={"X-API-Key": admin}
    ) as r:
        data = await r.json()
        if r.status != 201:
            raise RuntimeError(f"demo account {name}: {r.status} {data}")
        return str(data["api_key"])


async def _instruments(session: aiohttp.ClientSession, url: str, key: str) -> list[dict[str, str]]:
    async with session.get(f"{url}/api/instruments", headers={"X-API-Key": key}) as r:
        data = await r.json()
        return list(data["items"])


async def _place(session: aiohttp.ClientSession, url: str, key: str, body: dict[str, str]) -> None:
    async with session.post(f"{url}/api/orders", json=body, headers={"X-API-Key": key}) as r:
        if r.status >= 500:
            log.warning("demo order refused with %s: %s", r.status, await r.text())


async def run_demo_market(url: str, keys: LocalKeys, seed: int, period: float = 1.0) -> None:
    """Quote and trade until cancelled."""
    rng = random.Random(seed)
    async with aiohttp.ClientSession() as session:
        maker = await _account(session, url, keys.admin, f"demo-market-maker-{seed}")
        traders = [
            await _account(session, url, keys.admin, f"demo-trader-{seed}-{i}") for i in range(3)
        ]
        instruments = await _instruments(session, url, maker)
        mids = {i["symbol"]: Decimal(i["reference_price"] or "100") for i in instruments}
        ticks = {i["symbol"]: Decimal(i["tick_size"]) for i in instruments}
        lots = {i["symbol"]: Decimal(i["lot_size"]) for i in instruments}
        while True:
            for symbol, mid in list(mids.items()):
                tick, lot = ticks[symbol], lots[symbol]
                mid = max(tick * 10, mid + tick * rng.randint(-2, 2))
                mids[symbol] = mid
                async with session.delete(
                    f"{url}/api/orders", params={"symbol": symbol}, headers={"X-API-Key": maker}
                ):
                    pass
                for level in range(1, 4):
                    size = str(lot * rng.randint(5, 50))
                    for side, price in (("buy", mid - tick * level), ("sell", mid + tick * level)):
                        await _place(
                            session,
                            url,
                            maker,
                            {
                                "symbol": symbol,
                                "side": side,
                                "type": "limit",
                                "quantity": size,
                                "limit_price": str(price),
                                "time_in_force": "gtc",
                            },
                        )
                trader = rng.choice(traders)
                await _place(
                    session,
                    url,
                    trader,
                    {
                        "symbol": symbol,
                        "side": rng.choice(("buy", "sell")),
                        "type": "market",
                        "quantity": str(lot * rng.randint(1, 10)),
                        "time_in_force": "ioc",
                    },
                )
            await asyncio.sleep(period)


def start_demo_market(url: str, keys: LocalKeys, seed: int) -> asyncio.Task[None]:
    return asyncio.create_task(run_demo_market(url, keys, seed))
