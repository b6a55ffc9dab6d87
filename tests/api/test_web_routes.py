"""The page and the API docs are served by the API itself (over HTTP and through the Functions
adapter alike) from local assets, and the caller can ask who it is (`GET /api/me`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.http import web
from tests.support.oms import Client, Oms, Transport
from tests.web.support import ensure_web_built

# What a page loads: scripts, stylesheets and icons (not its links to other pages).
ASSET = re.compile(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""")


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    ensure_web_built()


async def test_page_is_served_with_its_assets_and_a_strict_policy(transport: Transport) -> None:
    page = await transport.request("GET", "/")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["cache-control"] == "no-cache"
    links = ASSET.findall(page.body.decode())
    assert links and all(link.startswith("/assets/") for link in links), links
    for link in links:
        asset = await transport.request("GET", link)
        assert asset.status == 200, link
        assert "immutable" in asset.headers["cache-control"]
        assert asset.body
    icon = await transport.request("GET", "/favicon.ico")
    assert (icon.status, icon.headers["content-type"]) == (200, "image/svg+xml")


async def test_swagger_ui_loads_only_local_assets(transport: Transport) -> None:
    docs = await transport.request("GET", "/api/docs")
    assert docs.status == 200
    html = docs.body.decode()
    assert "cdn." not in html and "https://" not in html
    links = ASSET.findall(html)
    assert len(links) == 3, links  # stylesheet, favicon, script
    for link in links:
        assert link.startswith("/assets/"), link
        assert (await transport.request("GET", link)).status == 200, link
    spec = await transport.request("GET", "/api/openapi.json")
    paths = spec.json()["paths"]
    assert "/api/me" in paths
    assert "/" not in paths and "/api/docs" not in paths


async def test_me_names_the_callers_account_and_roles(oms: Oms, transport: Transport) -> None:
    account_id, key = await oms.add_account("carol")
    me = await Client(transport, key).call("GET", "/api/me")
    assert me.status == 200
    body = me.json()
    assert (body["account_id"], body["name"], body["roles"]) == (account_id, "carol", ["trader"])
    assert body["risk_limits"]["max_order_notional"]
    admin = (await Client(transport, oms.admin_key).call("GET", "/api/me")).json()
    assert "admin" in admin["roles"]
    anonymous = await transport.request("GET", "/api/me")
    assert (anonymous.status, anonymous.json()["reason"]) == (401, "UNAUTHENTICATED")


async def test_without_a_build_the_page_says_how_to_build_it(
    transport: Transport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web, "WEB_DIST", tmp_path)
    for path in ("/", "/api/docs"):
        answer = await transport.request("GET", path)
        assert answer.status == 503, path
        assert "make web" in answer.body.decode()
    assert (await transport.request("GET", "/api/health")).status == 200


def test_policy_lets_the_page_reach_the_signalr_service_and_nothing_else() -> None:
    local = web.content_security_policy(None)
    assert "connect-src 'self';" in local
    azure = web.content_security_policy("https://oms-sig.service.signalr.net")
    assert (
        "connect-src 'self' https://oms-sig.service.signalr.net wss://oms-sig.service.signalr.net;"
        in azure
    )
