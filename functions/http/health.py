"""Liveness (the process answers) and readiness (each dependency answers)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.responses import Response

from functions.http.deps import ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas import Health, Readiness
from shared.bootstrap import Container

router = APIRouter(prefix="/api", tags=["health"])

CHECK_TIMEOUT_SECONDS = 3.0


@router.get("/health", response_model=Health, summary="Liveness")
async def health() -> Health:
    return Health(status="ok")


async def _check(name: str, probe: object) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except Exception as error:
        return name, f"error: {type(error).__name__}"
    return name, "ok"


async def readiness(container: Container) -> tuple[bool, dict[str, str]]:
    checks = dict(
        await asyncio.gather(
            _check("store", container.store.ping()),
            _check("cache", container.cache.ping()),
            _check("bus", container.bus.dead_letters(container.settings.ORDERS_QUEUE, 1)),
        )
    )
    return all(v == "ok" for v in checks.values()), checks


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={**errors(503), 503: {"model": Readiness, "description": "A dependency failed"}},
    summary="Readiness: the store, the cache and the bus answer",
)
async def ready(container: ContainerDep) -> Response:
    ok, checks = await readiness(container)
    body = Readiness(status="ready" if ok else "unavailable", checks=checks)
    return json_response(body.model_dump_json().encode(), 200 if ok else 503)
