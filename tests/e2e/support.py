"""Helpers of the e2e tests: the local run reached over HTTP like any client would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx

from localrun.host import LocalRun
from localrun.seed import LocalKeys
from shared.bootstrap import ADMIN_ACCOUNT_ID

_ids = itertools.count(1)


@dataclass
class Account:
    account_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass
class LocalOms:
    run: LocalRun
    keys: LocalKeys
    http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.run.url, timeout=10)

    @property
    def url(self) -> str:
        return self.run.url

    @property
    def negotiate_base(self) -> str:
        """What a SignalR client passes to withUrl: it POSTs {this}/negotiate."""
        return f"{self.run.url}/api"

    @property
    def live(self) -> Account:
        return Account(self.keys.live_account, self.keys.live_key)

    @property
    def admin(self) -> Account:
        return Account(ADMIN_ACCOUNT_ID, self.keys.admin)

    async def new_account(self, name: str, kind: str = "live") -> Account:
        """A trading account made through the admin API."""
        response = await self.http.post(
            "/api/admin/accounts",
            json={"name": name, "type": kind},
            headers={"X-API-Key": self.keys.admin},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Account(body["account"]["account_id"], body["api_key"])

    async def place(
        self, account: Account, symbol: str, side: str, quantity: str, price: str
    ) -> dict[str, Any]:
        body = {
            "symbol": symbol,
            "side": side,
            "type": "limit",
            "quantity": quantity,
            "limit_price": price,
            "time_in_force": "gtc",
            "client_order_id": f"e2e-{next(_ids)}",
        }
        response = await self.http.post("/api/orders", json=body, headers=account.headers)
        assert response.status_code == 202, response.text
        order: dict[str, Any] = response.json()
        return order

    async def feed_state(self, account: Account) -> dict[str, Any]:
        response = await self.http.get("/api/feeds/state", headers=account.headers)
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()
        return state

    async def aclose(self) -> None:
        await self.http.aclose()


def account_messages(
    envelopes: list[tuple[str, dict[str, Any]]], account_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """The (target, envelope) pairs of one account's stream, in arrival order."""
    return [(t, e) for t, e in envelopes if e["stream"] == f"account:{account_id}"]
