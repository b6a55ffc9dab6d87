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


async def _place(
    session: aiohttp.ClientSession, url: str, key: str, body: dict[str, str]
) -> str | None:
    """The new order's id, or None when it was refused."""
    async with session.post(f"{url}/api/orders", json=body, headers={"X-API-Key": key}) as r:
        if r.status >= 500:
            log.warning("demo order refused with %s: %s", r.status, await r.text())
        return str((await r.json())["order_id"]) if r.status == 202 else None


async def _reprice(
    session: aiohttp.ClientSession, url: str, key: str, order_id: str, price: str
) -> bool:
    """Move a resting quote in place. When it cannot be (filled, canceled by self-trade
    prevention, ...), cancel what may be left of it and answer False."""
    headers = {"X-API-Key": key}
    order_url = f"{url}/api/orders/{order_id}"
    async with session.patch(order_url, json={"limit_price": price}, headers=headers) as r:
        if r.status == 202:
            return True
    async with session.delete(order_url, headers=headers):
        return False


# Each instrument, every period: the mid walks, its six quotes (three levels a side) move one
# at a time, and a trader crosses the spread once. The steps are spread evenly over the
# period, so books change steadily (a few times a second each) rather than in one burst.
QUOTES = tuple((side, level) for level in range(1, 4) for side in ("buy", "sell"))


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
        resting: dict[tuple[str, str, int], tuple[str, str]] = {}  # -> (order id, price)
        steps = len(QUOTES) + 1
        pause = period / (steps * max(1, len(mids)))
        while True:
            for step in range(steps):
                for symbol in list(mids):
                    tick, lot = ticks[symbol], lots[symbol]
                    if step == len(QUOTES):
                        mids[symbol] = max(tick * 10, mids[symbol] + tick * rng.randint(-2, 2))
                        await _place(
                            session,
                            url,
                            rng.choice(traders),
                            {
                                "symbol": symbol,
                                "side": rng.choice(("buy", "sell")),
                                "type": "market",
                                "quantity": str(lot * rng.randint(1, 10)),
                                "time_in_force": "ioc",
                            },
                        )
                    else:
                        side, level = QUOTES[step]
                        offset = tick * level
                        price = str(
                            mids[symbol] - offset if side == "buy" else mids[symbol] + offset
                        )
                        quote = resting.get((symbol, side, level))
                        if quote is not None and quote[1] == price:
                            pass  # the mid did not move: nothing to requote
                        elif quote is not None and await _reprice(
                            session, url, maker, quote[0], price
                        ):
                            resting[(symbol, side, level)] = (quote[0], price)
                        else:
                            body = {
                                "symbol": symbol,
                                "side": side,
                                "type": "limit",
                                "quantity": str(lot * rng.randint(5, 50)),
                                "limit_price": price,
                                "time_in_force": "gtc",
                            }
                            placed = await _place(session, url, maker, body)
                            if placed is not None:
                                resting[(symbol, side, level)] = (placed, price)
                    await asyncio.sleep(pause)


def start_demo_market(url: str, keys: LocalKeys, seed: int) -> asyncio.Task[None]:
    return asyncio.create_task(run_demo_market(url, keys, seed))
