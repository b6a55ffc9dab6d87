"""The live-feed routes in process: negotiate, instrument subscriptions, the stream state."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from functions.http import create_app
from functions.runtime import ContainerProvider
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.cache_memory import MemoryCache
from shared.adapters.factory import memory_queues
from shared.adapters.signalr_local import LocalNotifier
from shared.adapters.signalr_off import DiscardingNotifier
from shared.adapters.sqlite.store import open_sqlite_store
from shared.bootstrap import Container, bootstrap
from shared.config.settings import Settings
from shared.domain.enums import AccountType
from shared.ports.notifier import Notifier, NotifierError
from shared.services import admin, admin_feed, instrument_admin
from shared.services.auth import Caller
from shared.services.errors import Forbidden
from shared.signalr_hub import HubConnection, LocalHub
from shared.signalr_hub.protocol import RS
from shared.signalr_hub.tokens import USER_CLAIM, verify_token

KEY = "unit-test-access-key-0123456789abcdef"
ENDPOINT = "http://127.0.0.1:1/signalr"


@dataclass
class Api:
    client: httpx.AsyncClient
    container: Container
    hub: LocalHub
    account_id: str
    key: str

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers={"X-API-Key": self.key})


async def _api(notifier: Notifier | None) -> tuple[Container, httpx.AsyncClient]:
    settings = Settings(OMS_ADMIN_API_KEY="admin-key")
    container = await bootstrap(
        settings,
        store=await open_sqlite_store(":memory:"),
        bus=InMemoryBus(memory_queues(settings)),
        cache=MemoryCache(),
        notifier=notifier,
    )
    spec = instrument_admin.InstrumentSpec(
        "ABC", Decimal("0.01"), Decimal("1"), reference_price="100"
    )
    await instrument_admin.create_instrument(container, spec, "seed")
    app = create_app(ContainerProvider(lambda: _same(container)))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://oms")
    return container, client


async def _same(container: Container) -> Container:
    return container


@pytest.fixture(params=["local-hub", "no-signalr"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    hub = LocalHub(KEY)
    notifier = LocalNotifier(hub, ENDPOINT) if request.param == "local-hub" else None
    container, client = await _api(notifier)
    spec = admin.NewAccount(name="alice", type=AccountType.LIVE)
    account, key = await admin.create_account(container, spec, actor="test")
    yield Api(client, container, hub, account.account_id, key)
    await client.aclose()
    await container.store.close()


def _messages(conn: HubConnection) -> list[dict[str, Any]]:
    frames = [conn._buffer.popleft() for _ in range(len(conn._buffer))]
    return [json.loads(r) for f in frames for r in f.split(RS) if r]


def _with_hub(api: Api) -> None:
    if isinstance(api.container.notifier, DiscardingNotifier):
        pytest.skip("needs the local hub")


async def test_negotiate_redirects_to_the_hub_with_a_token_naming_the_callers_account(
    api: Api,
) -> None:
    _with_hub(api)
    response = await api.call("POST", "/api/negotiate?negotiateVersion=1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"url", "accessToken"}
    assert body["url"] == f"{ENDPOINT}/client/?hub=oms"
    assert verify_token(KEY, body["accessToken"])[USER_CLAIM] == api.account_id


async def test_negotiate_without_a_key_is_a_401(api: Api) -> None:
    response = await api.client.post("/api/negotiate")
    assert response.status_code == 401
    assert response.json()["reason"] == "UNAUTHENTICATED"


async def test_without_signalr_the_feed_routes_are_a_503_that_says_why(api: Api) -> None:
    if not isinstance(api.container.notifier, DiscardingNotifier):
        pytest.skip("needs no SignalR")
    for method, path, body in (
        ("POST", "/api/negotiate", None),
        ("POST", "/api/subscriptions", {"symbols": ["ABC"]}),
        ("DELETE", "/api/subscriptions", {"symbols": ["ABC"]}),
    ):
        response = await api.call(method, path, body)
        assert response.status_code == 503, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == "LIVE_FEEDS_NOT_CONFIGURED"


async def test_a_subscribed_connection_gets_the_instrument_feeds_until_it_unsubscribes(
    api: Api,
) -> None:
    _with_hub(api)
    conn = api.hub.connect("oms", api.hub.new_connection_id(), api.account_id)
    body = {"connection_id": conn.connection_id, "symbols": ["ABC"], "feeds": ["trades", "book"]}
    response = await api.call("POST", "/api/subscriptions", body)
    assert response.status_code == 200
    assert response.json() == {
        "connection_id": conn.connection_id,
        "user_id": None,
        "groups": ["trades:ABC", "book:ABC"],
    }
    await api.container.feeds.trade("ABC", {"price": "100.00"})
    got = _messages(conn)
    assert [(m["target"], m["arguments"][0]["stream"]) for m in got] == [("trade", "trades:ABC")]

    assert (await api.call("DELETE", "/api/subscriptions", body)).status_code == 200
    await api.container.feeds.trade("ABC", {"price": "100.01"})
    assert _messages(conn) == []


async def test_a_user_subscription_reaches_connections_opened_later(api: Api) -> None:
    _with_hub(api)
    response = await api.call(
        "POST", "/api/subscriptions", {"symbols": ["ABC"], "feeds": ["trades"]}
    )
    assert response.json() == {
        "connection_id": None,
        "user_id": api.account_id,
        "groups": ["trades:ABC"],
    }
    conn = api.hub.connect("oms", api.hub.new_connection_id(), api.account_id)
    await api.container.feeds.trade("ABC", {"price": "100.00"})
    assert [m["target"] for m in _messages(conn)] == ["trade"]


async def test_an_unknown_symbol_or_connection_is_a_422_naming_it(api: Api) -> None:
    _with_hub(api)
    response = await api.call("POST", "/api/subscriptions", {"symbols": ["ABC", "NOPE"]})
    assert response.status_code == 422
    assert (response.json()["reason"], response.json()["field"]) == (
        "UNKNOWN_INSTRUMENT",
        "symbols.1",
    )
    body = {"connection_id": "not-connected", "symbols": ["ABC"]}
    response = await api.call("POST", "/api/subscriptions", body)
    assert response.status_code == 422
    assert (response.json()["reason"], response.json()["field"]) == (
        "UNKNOWN_CONNECTION",
        "connection_id",
    )
    response = await api.call("POST", "/api/subscriptions", {"symbols": ["ABC"], "x": 1})
    assert (response.status_code, response.json()["reason"]) == (422, "UNKNOWN_FIELD")


async def test_feed_state_tells_the_callers_stream_epoch_and_last_sequence(api: Api) -> None:
    feeds = api.container.feeds
    before = (await api.call("GET", "/api/feeds/state")).json()
    assert (before["stream"], before["seq"]) == (f"account:{api.account_id}", 0)
    assert before["epoch"] != feeds.epoch  # the stream's own, kept in the store
    await feeds.order_updated(api.account_id, {"order_id": "o1"})
    await feeds.execution_reported(api.account_id, {"order_id": "o1"})
    await feeds.order_updated("someone-else", {"order_id": "o2"})
    after = (await api.call("GET", "/api/feeds/state")).json()
    assert (after["epoch"], after["seq"]) == (before["epoch"], 2)


async def _admin(api: Api, name: str = "root") -> tuple[str, str]:
    spec = admin.NewAccount(name=name, type=AccountType.LIVE, roles=("admin",))
    account, key = await admin.create_account(api.container, spec, actor="test")
    await api.container.background.drain()  # its audit entry's push is out
    return account.account_id, key


async def test_only_admins_may_join_the_admin_feed_or_read_where_it_stands(api: Api) -> None:
    for method, path, body in (
        ("POST", "/api/admin/subscriptions", {}),
        ("DELETE", "/api/admin/subscriptions", {}),
        ("GET", "/api/admin/feeds/state", None),
    ):
        response = await api.call(method, path, body)  # alice is a trader
        assert (response.status_code, response.json()["reason"]) == (403, "FORBIDDEN"), path


async def test_without_signalr_joining_the_admin_feed_is_a_503_that_says_why(api: Api) -> None:
    if not isinstance(api.container.notifier, DiscardingNotifier):
        pytest.skip("needs no SignalR")
    _, key = await _admin(api)
    response = await api.client.post(
        "/api/admin/subscriptions", json={}, headers={"X-API-Key": key}
    )
    assert response.status_code == 503
    assert response.json()["reason"] == "LIVE_FEEDS_NOT_CONFIGURED"


async def _heard(api: Api, conn: HubConnection) -> list[dict[str, Any]]:
    await api.container.background.drain()  # the pushes leave after the answer
    return _messages(conn)


async def test_an_admins_connections_hear_every_audit_entry_until_it_leaves(api: Api) -> None:
    _with_hub(api)
    root_id, key = await _admin(api)
    headers = {"X-API-Key": key}
    watcher = api.hub.connect("oms", api.hub.new_connection_id(), root_id)
    trader = api.hub.connect("oms", api.hub.new_connection_id(), api.account_id)
    # A connection id in the body is not used: the group holds accounts, never one
    # connection (whose owner cannot be checked), so a trader's connection cannot be put in.
    body = {"connection_id": trader.connection_id}
    joined = await api.client.post("/api/admin/subscriptions", json=body, headers=headers)
    assert joined.json() == {"connection_id": None, "user_id": root_id, "groups": ["admin"]}
    state = (await api.client.get("/api/admin/feeds/state", headers=headers)).json()
    later = api.hub.connect("oms", api.hub.new_connection_id(), root_id)  # opened after

    changed = await api.client.patch(
        f"/api/admin/accounts/{api.account_id}", json={"name": "alice-2"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    got = await _heard(api, watcher)
    assert [m["target"] for m in got] == ["auditRecorded"]
    envelope = got[0]["arguments"][0]
    assert (envelope["stream"], envelope["epoch"]) == ("admin", state["epoch"])
    assert envelope["seq"] == state["seq"] + 1
    audited = await api.client.get("/api/admin/audit", params={"limit": 1}, headers=headers)
    assert envelope["data"] == audited.json()["items"][0]  # the entry as the API shows it
    assert envelope["data"]["action"] == "account.changed"
    assert envelope["data"]["after"]["name"] == "alice-2"
    assert [m["arguments"][0]["seq"] for m in _messages(later)] == [envelope["seq"]]
    assert _messages(trader) == []  # a trader hears nothing of it

    left = await api.client.delete("/api/admin/subscriptions", headers=headers)
    assert left.status_code == 200
    await api.client.patch(
        f"/api/admin/accounts/{api.account_id}", json={"name": "alice-3"}, headers=headers
    )
    assert await _heard(api, watcher) == []
    after = (await api.client.get("/api/admin/feeds/state", headers=headers)).json()
    assert after["seq"] == state["seq"] + 2  # numbered all the same: the stream is one


async def test_an_account_that_loses_the_admin_role_stops_hearing_the_admin_feed(
    api: Api,
) -> None:
    _with_hub(api)
    _, root_key = await _admin(api)
    deputy_id, deputy_key = await _admin(api, "deputy")
    joined = await api.client.post("/api/admin/subscriptions", headers={"X-API-Key": deputy_key})
    assert joined.json()["user_id"] == deputy_id
    watcher = api.hub.connect("oms", api.hub.new_connection_id(), deputy_id)
    root = {"X-API-Key": root_key}
    await api.client.patch(
        f"/api/admin/accounts/{api.account_id}", json={"name": "a"}, headers=root
    )
    assert [m["target"] for m in await _heard(api, watcher)] == ["auditRecorded"]

    demoted = await api.client.patch(
        f"/api/admin/accounts/{deputy_id}", json={"roles": ["trader"]}, headers=root
    )
    assert demoted.status_code == 200, demoted.text
    await api.client.patch(
        f"/api/admin/accounts/{api.account_id}", json={"name": "b"}, headers=root
    )
    assert await _heard(api, watcher) == []
    again = await api.client.post("/api/admin/subscriptions", headers={"X-API-Key": deputy_key})
    assert again.status_code == 403


async def test_a_join_that_races_a_demotion_leaves_the_account_out(api: Api) -> None:
    _with_hub(api)
    deputy_id, _ = await _admin(api, "deputy")
    deputy = await api.container.store.accounts.get(deputy_id)
    assert deputy is not None
    checked = Caller(deputy, frozenset(deputy.roles))  # the join's check passed as an admin ...
    await admin.update_account(  # ... then the demotion is stored and its leave runs ...
        api.container, deputy_id, admin.AccountChanges(roles=("trader",)), actor="test"
    )
    with pytest.raises(Forbidden):  # ... and the join's own re-read refuses it
        await admin_feed.join(api.container, checked)
    watcher = api.hub.connect("oms", api.hub.new_connection_id(), deputy_id)
    await api.container.feeds.audit_recorded({"audit_id": "x"})
    assert _messages(watcher) == []


async def test_revoking_admin_never_waits_for_signalr_and_the_leave_is_retried(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_hub(api)
    deputy_id, deputy_key = await _admin(api, "deputy")
    await api.client.post("/api/admin/subscriptions", headers={"X-API-Key": deputy_key})
    watcher = api.hub.connect("oms", api.hub.new_connection_id(), deputy_id)
    notifier = api.container.notifier
    real_leave = notifier.remove_user_from_group
    failures = iter([NotifierError("SignalR is down")])

    async def flaky_leave(user_id: str, group: str) -> None:
        if (error := next(failures, None)) is not None:
            raise error
        await real_leave(user_id, group)

    monkeypatch.setattr(notifier, "remove_user_from_group", flaky_leave)
    monkeypatch.setattr(admin_feed, "LEAVE_RETRIES", (0.01,))
    demoted = await api.client.patch(
        f"/api/admin/accounts/{deputy_id}",
        json={"roles": ["trader"]},
        headers={"X-API-Key": "admin-key"},
    )
    assert demoted.status_code == 200, demoted.text  # the role is gone at once
    stored = await api.container.store.accounts.get(deputy_id)
    assert stored is not None and stored.roles == ("trader",)
    await api.container.background.drain()  # the retry took it off the feed
    _messages(watcher)
    await api.container.feeds.audit_recorded({"audit_id": "y"})
    assert _messages(watcher) == []
