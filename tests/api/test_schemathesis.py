"""Property-based API testing with schemathesis against /api/openapi.json over real HTTP:
every operation, over a thousand generated requests, no 5xx and no response outside the
documented schema (status codes, content types, bodies, headers)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from functions.http import create_app
from functions.runtime import ContainerProvider
from shared.adapters.bus_memory import InMemoryBus
from shared.adapters.cache_memory import MemoryCache
from shared.adapters.factory import memory_queues
from shared.adapters.signalr_local import LocalNotifier
from shared.adapters.sqlite.store import open_sqlite_store
from shared.bootstrap import Container, bootstrap
from shared.config.settings import Settings
from shared.ports.cache import book_key
from shared.services import instrument_admin
from shared.signalr_hub import LocalHub
from tests.support.oms import ADMIN_KEY
from tests.support.redis_server import free_port

MIN_CASES = 1_000
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
EXAMPLES_PER_OPERATION = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


async def seeded_container() -> Container:
    """An OMS with two instruments, a published book, a few orders to find and a local
    SignalR hub (without one the live-feed routes would only answer 503)."""
    settings = Settings(OMS_ADMIN_API_KEY=ADMIN_KEY)
    cache = MemoryCache()
    hub = LocalHub("schemathesis-access-key-0123456789abcdef")
    container = await bootstrap(
        settings,
        store=await open_sqlite_store(":memory:"),
        bus=InMemoryBus(memory_queues(settings)),
        cache=cache,
        notifier=LocalNotifier(hub, "http://127.0.0.1:1/signalr"),
    )
    for symbol, tick, lot in (("ABC", "0.01", "1"), ("XYZ", "0.5", "10")):
        spec = instrument_admin.InstrumentSpec(
            symbol, Decimal(tick), Decimal(lot), reference_price="100"
        )
        await instrument_admin.create_instrument(container, spec, "seed")
    book = {"symbol": "ABC", "seq": 7, "ts": 1, "bids": [[9999, 5, 2]], "asks": [[10001, 3, 1]]}
    await cache.set(book_key("ABC"), orjson.dumps(book))
    return container


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    """The API on uvicorn in its own thread and event loop (the container is built there)."""
    app = create_app(ContainerProvider(seeded_container))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        threading.Event().wait(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_generated_requests_get_no_5xx_and_only_documented_responses(live_url: str):
    schema = schemathesis.openapi.from_url(f"{live_url}/api/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema is valid
        operations.append(result.ok())
    statuses: Counter[int] = Counter()
    cases_per_operation: Counter[str] = Counter()

    def runner(strategy: SearchStrategy[Any], label: str) -> Callable[[], None]:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,  # a seeded, repeatable run
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            response = case.call(base_url=live_url, headers={"X-API-Key": ADMIN_KEY})
            statuses[response.status_code] += 1
            cases_per_operation[label] += 1
            case.validate_response(response, checks=CHECKS)

        return run

    for mode in MODES:
        for operation in operations:
            try:
                runner(
                    operation.as_strategy(generation_mode=mode), f"{mode.value} {operation.label}"
                )()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing here can be made invalid

    total = sum(statuses.values())
    print(f"schemathesis: {total} cases over {len(operations)} operations; statuses {statuses}")
    assert total >= MIN_CASES
    assert {label.split(" ", 1)[1] for label in cases_per_operation} == {
        op.label for op in operations
    }
    assert not [s for s in statuses if s >= 500]
    assert any(200 <= s < 300 for s in statuses)
