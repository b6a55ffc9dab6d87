"""The local host builds the Function App as Azure indexes it: same functions, no warning."""

from __future__ import annotations

import logging

import pytest

import function_app
from functions.app import function_app as build_function_app
from functions.http import create_app
from functions.runtime import ContainerProvider
from localrun.dispatcher import QueueTrigger, TimerTrigger, triggers_of
from shared.config.settings import Settings


async def _no_container() -> object:
    raise AssertionError("building the app must not build the container")


def test_the_local_dispatcher_reads_the_deployed_triggers_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = ContainerProvider(_no_container)  # type: ignore[arg-type]
    local = build_function_app(create_app(provider), provider)
    with caplog.at_level(logging.DEBUG):
        found = triggers_of(local, Settings())
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert sorted(t.name for t in found) == ["executions", "order_requests", "outbox_sweep"]
    assert {t.name for t in found if isinstance(t, QueueTrigger) and t.sessions} == {"executions"}
    assert [t.name for t in found if isinstance(t, TimerTrigger)] == ["outbox_sweep"]
    # The deployed app is built by the same function (its bindings: test_function_bindings).
    assert isinstance(function_app.app, type(local))
