"""`/v2/assets`: every instrument as Alpaca's asset, or one by symbol or asset id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from functions.alpaca.deps import CallerDep, ContainerDep
from functions.alpaca.positions import instrument_named
from functions.alpaca.shapes import json_response
from shared.alpaca import codes as alpaca_codes
from shared.alpaca.assets import alpaca_asset
from shared.services import queries
from shared.services.errors import NotFound

router = APIRouter(prefix="/v2", tags=["alpaca"])


@router.get("/assets")
async def list_assets(
    container: ContainerDep,
    caller: CallerDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    asset_class: Annotated[str | None, Query(max_length=20)] = None,
    exchange: Annotated[str | None, Query(max_length=20)] = None,
    attributes: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    assets = [alpaca_asset(i) for i in await queries.list_instruments(container)]
    wanted = {"status": status, "class": asset_class, "exchange": exchange}
    for field, value in wanted.items():
        if value is not None:
            assets = [a for a in assets if a[field] == value]
    if attributes:  # no asset here has any of Alpaca's attributes
        assets = []
    return json_response(assets)


@router.get("/assets/{symbol_or_asset_id:path}")
async def get_asset(
    symbol_or_asset_id: Annotated[str, Path(max_length=64)],
    container: ContainerDep,
    caller: CallerDep,
) -> Response:
    instrument = await instrument_named(container, symbol_or_asset_id)
    if instrument is None:
        raise NotFound(alpaca_codes.ASSET_NOT_FOUND, f"asset not found: {symbol_or_asset_id}")
    return json_response(alpaca_asset(instrument))
