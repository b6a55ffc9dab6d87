"""The whole OMS of the one-command local run (`LocalRun`), started once for the e2e suite on
a free loopback port with its data in a temporary folder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from localrun.host import LocalRun
from shared.config.settings import Settings
from tests.e2e.support import LocalOms
from tests.support.redis_server import free_port


@pytest.fixture(scope="session")
async def local_oms(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalOms]:
    settings = Settings(
        OMS_DATA_DIR=tmp_path_factory.mktemp("oms-data"), OMS_HOST="127.0.0.1", OMS_PORT=free_port()
    )
    run = LocalRun(settings)
    keys = await run.start()
    oms = LocalOms(run, keys)
    try:
        yield oms
    finally:
        await oms.aclose()
        await run.stop()
