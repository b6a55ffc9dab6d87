"""Fixtures: a fresh OMS per test, reached over real HTTP or through the Functions adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.oms import FunctionsTransport, HttpTransport, Oms, Transport, make_oms, serve


@pytest.fixture
async def oms() -> AsyncIterator[Oms]:
    system = await make_oms()
    yield system
    await system.container.store.close()


@pytest.fixture(params=["http", "functions"])
async def transport(request: pytest.FixtureRequest, oms: Oms) -> AsyncIterator[Transport]:
    if request.param == "functions":
        yield FunctionsTransport(oms.app)
        return
    async with serve(oms.app) as url, httpx.AsyncClient(base_url=url) as client:
        yield HttpTransport(client)


@pytest.fixture
def functions_transport(oms: Oms) -> Transport:
    return FunctionsTransport(oms.app)
