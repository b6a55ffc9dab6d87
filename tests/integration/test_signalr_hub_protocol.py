"""The local hub's wire protocols, driven by a raw `websockets` client and httpx."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from shared.ports.notifier import UnknownConnectionError
from shared.signalr_hub.tokens import sign_token
from tests.integration.test_signalr_support import ACCESS_KEY, SignalRStack, signalr_stack

RS = "\x1e"


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[SignalRStack]:
    async with signalr_stack(ping_interval=0.2) as s:
        yield s


def ws_url(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http")


async def negotiate(stack: SignalRStack, user: str) -> tuple[str, str, dict[str, Any]]:
    """The redirect, then the direct negotiate: (client url, token, direct response)."""
    async with httpx.AsyncClient() as http:
        redirect = await http.post(
            f"{stack.negotiate_base}/negotiate?negotiateVersion=1", headers={"X-Test-User": user}
        )
        assert redirect.status_code == 200
        url, token = redirect.json()["url"], redirect.json()["accessToken"]
        negotiate_url = url.replace("/client/?", "/client/negotiate?") + "&negotiateVersion=1"
        direct = await http.post(negotiate_url, headers={"Authorization": f"Bearer {token}"})
        assert direct.status_code == 200, direct.text
        return url, token, direct.json()


async def recv_records(ws: ClientConnection) -> list[dict[str, Any]]:
    frame = await ws.recv()
    text = frame.decode() if isinstance(frame, bytes) else frame
    assert text.endswith(RS)
    return [json.loads(r) for r in text.split(RS) if r]


async def open_client(stack: SignalRStack, user: str) -> tuple[ClientConnection, str]:
    url, token, direct = await negotiate(stack, user)
    ws = await websockets.connect(
        f"{ws_url(url)}&id={direct['connectionToken']}&access_token={token}"
    )
    await ws.send(b'{"protocol":"json","version":1}' + RS.encode())  # binary, like signalrcore
    assert await ws.recv() == "{}" + RS
    return ws, direct["connectionId"]


async def test_direct_negotiate_offers_websockets_with_text_and_binary(stack: SignalRStack) -> None:
    _, _, direct = await negotiate(stack, "neg")
    assert direct["negotiateVersion"] == 1
    assert direct["connectionId"] and direct["connectionToken"]
    assert direct["availableTransports"] == [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
    ]


async def test_binary_handshake_then_invocations_pings_and_client_close(
    stack: SignalRStack,
) -> None:
    ws, connection_id = await open_client(stack, "dave")
    await stack.notifier.send_to_user("dave", "orderUpdated", [{"seq": 1}])
    kinds: list[int] = []
    while 6 not in kinds:  # the hub pings every 0.2 s here
        for record in await recv_records(ws):
            kinds.append(record["type"])
            if record["type"] == 1:
                assert record == {"type": 1, "target": "orderUpdated", "arguments": [{"seq": 1}]}
    assert kinds[0] == 1
    # A blocking client invocation is answered with an error completion, not left hanging.
    await ws.send(
        json.dumps({"type": 1, "invocationId": "7", "target": "Echo", "arguments": []}) + RS
    )
    record = next(r for r in await _until(ws, 3) if r["type"] == 3)
    assert record["invocationId"] == "7" and "serverless" in record["error"]
    await ws.send('{"type":6}' + RS + '{"type":7}' + RS)  # ping then close, in one frame
    await ws.wait_closed()
    for _ in range(100):  # the hub forgets the connection once its handler has unwound
        if connection_id not in _ids(stack):
            break
        await asyncio.sleep(0.01)
    assert connection_id not in _ids(stack)


async def _until(ws: ClientConnection, kind: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while not any(r["type"] == kind for r in got):
        got.extend(await recv_records(ws))
    return got


def _ids(stack: SignalRStack) -> set[str]:
    return set(stack.hub._state("oms").connections)


async def test_hub_close_sends_a_close_message(stack: SignalRStack) -> None:
    ws, connection_id = await open_client(stack, "erin")
    assert stack.hub.close_connection("oms", connection_id, "maintenance")
    records = await _until(ws, 7)
    assert {"type": 7, "error": "maintenance"} in records
    await ws.wait_closed()


async def test_unsupported_protocol_is_refused_in_the_handshake(stack: SignalRStack) -> None:
    url, token, direct = await negotiate(stack, "frank")
    async with websockets.connect(
        f"{ws_url(url)}&id={direct['connectionToken']}&access_token={token}"
    ) as ws:
        await ws.send('{"protocol":"messagepack","version":1}' + RS)
        reply = await ws.recv(decode=True)
        assert isinstance(reply, str)
        assert "messagepack" in json.loads(reply.rstrip(RS))["error"]
        await ws.wait_closed()


@pytest.mark.parametrize(
    "token_for",
    [
        lambda url: "",
        lambda url: "not-a-jwt",
        lambda url: sign_token("another-key-0123456789abcdef0123456789", url, user_id="u"),
        lambda url: sign_token(ACCESS_KEY, url, user_id="u", ttl_seconds=-10),  # expired
        lambda url: sign_token(ACCESS_KEY, url.replace("hub=oms", "hub=other"), user_id="u"),
    ],
    ids=["missing", "malformed", "bad-signature", "expired", "other-hub"],
)
async def test_bad_client_tokens_are_refused_at_negotiate_and_at_connect(
    stack: SignalRStack, token_for: Any
) -> None:
    url = f"{stack.endpoint}/client/?hub=oms"
    token = token_for(url)
    async with httpx.AsyncClient() as http:
        negotiate_url = f"{stack.endpoint}/client/negotiate?hub=oms&negotiateVersion=1"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await http.post(negotiate_url, headers=headers)
        assert response.status_code == 401
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{ws_url(url)}&access_token={token}")
    assert refused.value.response.status_code == 401


async def test_a_connection_token_is_single_use_and_bound_to_its_user(stack: SignalRStack) -> None:
    url, token, direct = await negotiate(stack, "gina")
    other = sign_token(ACCESS_KEY, url, user_id="mallory")
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(
            f"{ws_url(url)}&id={direct['connectionToken']}&access_token={other}"
        )
    assert refused.value.response.status_code == 404
    with pytest.raises(websockets.InvalidStatus):  # consumed by the refused attempt
        await websockets.connect(
            f"{ws_url(url)}&id={direct['connectionToken']}&access_token={token}"
        )


async def test_connecting_without_negotiate_uses_the_bearer_header(stack: SignalRStack) -> None:
    url = f"{stack.endpoint}/client/?hub=oms"
    token = sign_token(ACCESS_KEY, url, user_id="hank")
    async with websockets.connect(
        ws_url(url), additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        await ws.send('{"protocol":"json","version":1}' + RS + '{"type":6}' + RS)
        assert await ws.recv() == "{}" + RS
        await stack.notifier.send_to_all("hello", ["everyone"])
        records = await _until(ws, 1)
        assert {"type": 1, "target": "hello", "arguments": ["everyone"]} in records


async def test_rest_calls_need_a_token_for_their_own_url(stack: SignalRStack) -> None:
    send_url = f"{stack.endpoint}/api/hubs/oms/:send?api-version=2022-06-01"
    body = {"target": "t", "arguments": []}
    wrong_aud = sign_token(ACCESS_KEY, f"{stack.endpoint}/api/hubs/oms/users/x/:send")
    right_aud = sign_token(ACCESS_KEY, f"{stack.endpoint}/api/hubs/oms/:send")
    async with httpx.AsyncClient() as http:
        assert (await http.post(send_url, json=body)).status_code == 401
        denied = await http.post(
            send_url, json=body, headers={"Authorization": f"Bearer {wrong_aud}"}
        )
        assert denied.status_code == 401
        ok = await http.post(send_url, json=body, headers={"Authorization": f"Bearer {right_aud}"})
        assert ok.status_code == 202
        bad = await http.post(
            send_url, json={"arguments": []}, headers={"Authorization": f"Bearer {right_aud}"}
        )
        assert bad.status_code == 400


async def test_adding_an_unknown_connection_to_a_group_is_an_error(stack: SignalRStack) -> None:
    with pytest.raises(UnknownConnectionError):
        await stack.notifier.add_connection_to_group("no-such-connection", "trades:X")
    await stack.notifier.remove_connection_from_group("no-such-connection", "trades:X")


async def test_v1_rest_paths_reach_the_same_connections(stack: SignalRStack) -> None:
    ws, connection_id = await open_client(stack, "ivy")
    group_url = f"{stack.endpoint}/api/v1/hubs/oms/groups/g1/connections/{connection_id}"
    send_url = f"{stack.endpoint}/api/v1/hubs/oms/groups/g1"
    async with httpx.AsyncClient() as http:
        put = await http.put(
            group_url, headers={"Authorization": f"Bearer {sign_token(ACCESS_KEY, group_url)}"}
        )
        assert put.status_code == 200
        sent = await http.post(
            send_url,
            json={"target": "trade", "arguments": [1]},
            headers={"Authorization": f"Bearer {sign_token(ACCESS_KEY, send_url)}"},
        )
        assert sent.status_code == 202
    assert {"type": 1, "target": "trade", "arguments": [1]} in await _until(ws, 1)
    await ws.close()
