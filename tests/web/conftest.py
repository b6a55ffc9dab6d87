"""Fixtures of the browser tests: one headless Chromium for the session, and the whole
local run (`LocalRun`) on a free loopback port with its data in a temporary folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from localrun.host import LocalRun
from shared.config.settings import Settings
from tests.e2e.support import LocalOms
from tests.support.redis_server import free_port
from tests.web.support import chromium


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
async def oms(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalOms]:
    settings = Settings(
        OMS_DATA_DIR=tmp_path_factory.mktemp("oms-web"), OMS_HOST="127.0.0.1", OMS_PORT=free_port()
    )
    run = LocalRun(settings)
    keys = await run.start()
    local = LocalOms(run, keys)
    try:
        yield local
    finally:
        await local.aclose()
        await run.stop()
