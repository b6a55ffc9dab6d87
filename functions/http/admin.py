"""Administration (role `admin`): accounts, instruments, the kill switch."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from functions.http.deps import AdminDep, ContainerDep
from functions.http.openapi import errors
from functions.http.views import json_response
from functions.schemas import (
    ID_PATTERN,
    SYMBOL_PATTERN,
    AccountCreated,
    AccountOut,
    AccountPage,
    ChangeAccount,
    ChangeInstrument,
    CreateAccount,
    CreateInstrument,
    InstrumentOut,
    ReferencePricesIn,
    RiskLedgerOut,
    RiskLimitsIn,
    Session,
    SetTradingState,
    TradingStateOut,
)
from functions.schemas_history import AuditPage
from shared.ports.store_accounts import RiskLimits
from shared.ports.store_audit import AuditFilter
from shared.ports.store_paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.services import (
    admin,
    audit,
    codes,
    instrument_admin,
    paper_controls,
    reference_prices,
    venues,
)
from shared.services.errors import InvalidRequest
from shared.services.views import (
    account_view,
    datetime_to_ns,
    instrument_view,
    risk_ledger_view,
)

router = APIRouter(prefix="/api/admin", tags=["admin"])

AccountIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, max_length=32)]


def _limit_changes(limits: RiskLimitsIn | None) -> dict[str, object]:
    if limits is None:
        return {}
    changes: dict[str, object] = {}
    for name, value in limits.model_dump(exclude_none=True).items():
        money = name in ("max_order_notional", "credit_limit")
        changes[name] = Decimal(value) if money else value
    return changes


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountCreated,
    responses=errors(401, 403, 409, 413, 422),
    summary="Create an account; its API key is in the response, once",
)
async def create_account(
    body: CreateAccount, container: ContainerDep, caller: AdminDep
) -> AccountCreated:
    spec = admin.NewAccount(
        name=body.name,
        type=body.type,
        roles=tuple(dict.fromkeys(body.roles)),
        risk_limits=RiskLimits(**_limit_changes(body.risk_limits)),  # type: ignore[arg-type]
        stp=body.stp,
        entra_object_id=body.entra_object_id,
        currency=body.currency,
        starting_cash=None if body.starting_cash is None else Decimal(body.starting_cash),
    )
    account, api_key = await admin.create_account(container, spec, caller.account_id)
    return AccountCreated.model_validate({"account": account_view(account), "api_key": api_key})


@router.get("/accounts", response_model=AccountPage, responses=errors(401, 403))
async def list_accounts(container: ContainerDep, caller: AdminDep) -> AccountPage:
    accounts = await container.store.accounts.list_accounts()
    return AccountPage.model_validate({"items": [account_view(a) for a in accounts]})


@router.get(
    "/accounts/{account_id}", response_model=AccountOut, responses=errors(401, 403, 404, 422)
)
async def get_account(
    account_id: AccountIdPath, container: ContainerDep, caller: AdminDep
) -> AccountOut:
    return AccountOut.model_validate(account_view(await admin.get_account(container, account_id)))


@router.post(
    "/accounts/{account_id}/risk-ledger/rebuild",
    response_model=RiskLedgerOut,
    responses=errors(401, 403, 404, 409, 422),
    summary="Recount a halted account's risk ledger from its orders",
)
async def rebuild_risk_ledger(
    account_id: AccountIdPath, container: ContainerDep, caller: AdminDep
) -> RiskLedgerOut:
    ledger = await admin.rebuild_risk_ledger(container, account_id, caller.account_id)
    return RiskLedgerOut.model_validate(risk_ledger_view(ledger))


@router.patch(
    "/accounts/{account_id}",
    response_model=AccountOut,
    responses=errors(401, 403, 404, 409, 413, 422),
    summary="Change an account's name, roles, limits, trading state, venue or paper simulator",
)
async def change_account(
    account_id: AccountIdPath, body: ChangeAccount, container: ContainerDep, caller: AdminDep
) -> AccountOut:
    if body.venue is not None:
        # First: it checks everything it needs (live account, known venue) before changing.
        routed = await venues.route_account(container, account_id, body.venue, caller.account_id)
        if not body.model_dump(exclude_none=True, exclude={"venue"}):
            return AccountOut.model_validate(account_view(routed))
    changes = admin.AccountChanges(
        name=body.name,
        roles=None if body.roles is None else tuple(dict.fromkeys(body.roles)),
        stp=body.stp,
        risk_limits=_limit_changes(body.risk_limits) or None,
        trading_state=body.trading_state,
        simulator=None
        if body.simulator is None
        else paper_controls.simulator_changes(body.simulator.model_dump(exclude_unset=True)),
        shadow=body.shadow,
    )
    account = await admin.update_account(container, account_id, changes, caller.account_id)
    return AccountOut.model_validate(account_view(account))


def _positive(name: str, value: str) -> Decimal:
    number = Decimal(value)
    if number <= 0:
        raise InvalidRequest(codes.INVALID_VALUE, f"{name} must be greater than zero", name)
    return number


@router.post(
    "/instruments",
    status_code=201,
    response_model=InstrumentOut,
    responses=errors(401, 403, 409, 413, 422),
    summary="Add an instrument (its tick and lot sizes are fixed for good)",
)
async def create_instrument(
    body: CreateInstrument, container: ContainerDep, caller: AdminDep
) -> Response:
    spec = instrument_admin.InstrumentSpec(
        symbol=body.symbol,
        tick_size=_positive("tick_size", body.tick_size),
        lot_size=_positive("lot_size", body.lot_size),
        min_quantity=body.min_quantity,
        max_quantity=body.max_quantity,
        price_collar_bps=body.price_collar_bps,
        maker_fee_cbps=body.maker_fee_cbps,
        taker_fee_cbps=body.taker_fee_cbps,
        reference_price=body.reference_price,
        asset_class=body.asset_class,
        settlement_days=body.settlement_days,
        currency=body.currency,
        session=_session(body.session),
    )
    instrument = await instrument_admin.create_instrument(container, spec, caller.account_id)
    return json_response(
        InstrumentOut.model_validate(instrument_view(instrument)).model_dump_json().encode(), 201
    )


@router.patch(
    "/instruments/{symbol}",
    response_model=InstrumentOut,
    responses=errors(401, 403, 404, 413, 422),
    summary="Change an instrument's limits, fees, reference price, settlement cycle, session,"
    " trading state or venue",
)
async def change_instrument(
    symbol: SymbolPath, body: ChangeInstrument, container: ContainerDep, caller: AdminDep
) -> InstrumentOut:
    changes = body.model_dump(exclude_none=True, exclude={"venue", "session"})
    if body.venue is not None:
        await venues.check_venue(container, body.venue)  # before anything changes
    session = None if body.session is None else _session(body.session)
    instrument = await instrument_admin.update_instrument(
        container, symbol, caller.account_id, session=session, **changes
    )
    if body.venue is not None:
        instrument = await venues.route_instrument(container, symbol, body.venue, caller.account_id)
    return InstrumentOut.model_validate(instrument_view(instrument))


@router.put(
    "/instruments/{symbol}/reference-prices",
    response_model=InstrumentOut,
    responses=errors(401, 403, 404, 413, 422, 503),
    summary="Set the paper market's reference price source: a seeded walk or a price file",
)
async def set_reference_prices(
    symbol: SymbolPath, body: ReferencePricesIn, container: ContainerDep, caller: AdminDep
) -> InstrumentOut:
    spec = reference_prices.SourceSpec(
        source=body.source,
        seed=body.seed,
        step_ticks=body.step_ticks,
        step_ms=body.step_ms,
        start_price=body.start_price,
        prices=None
        if body.prices is None
        else [(datetime_to_ns(p.at), p.price) for p in body.prices],
    )
    instrument = await reference_prices.set_reference_source(
        container, symbol, spec, caller.account_id
    )
    return InstrumentOut.model_validate(instrument_view(instrument))


def _session(session: str | Session) -> instrument_admin.SessionSpec | str:
    if isinstance(session, str):
        return session
    days = None if session.days is None else tuple(session.days)
    return instrument_admin.SessionSpec(session.open, session.close, session.timezone, days)


@router.post(
    "/trading-state",
    response_model=TradingStateOut,
    responses=errors(401, 403, 404, 413, 422),
    summary="Kill switch: active, reducing or halted for an account, an instrument or all",
)
async def set_trading_state(
    body: SetTradingState, container: ContainerDep, caller: AdminDep
) -> TradingStateOut:
    actor = caller.account_id
    target: str | None = None
    if body.scope == "account":
        if body.account_id is None:
            raise InvalidRequest(
                codes.MISSING_FIELD, "account scope needs account_id", "account_id"
            )
        await admin.set_account_state(container, body.account_id, body.state, actor)
        target = body.account_id
    elif body.scope == "instrument":
        if body.symbol is None:
            raise InvalidRequest(codes.MISSING_FIELD, "instrument scope needs symbol", "symbol")
        await instrument_admin.set_instrument_state(container, body.symbol, body.state, actor)
        target = body.symbol
    else:
        await admin.set_global_trading_state(container, body.state, actor)
    return TradingStateOut(scope=body.scope, target=target, state=body.state)


Name = Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)]


@router.get(
    "/audit",
    response_model=AuditPage,
    responses=errors(401, 403, 422),
    summary="The audit trail of admin actions, newest first, with filters and a cursor",
)
async def list_audit(
    container: ContainerDep,
    caller: AdminDep,
    actor: Name = None,
    action: Name = None,
    target_type: Name = None,
    target_id: Name = None,
    since: Annotated[AwareDatetime | None, Query(description="at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    where = AuditFilter(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=None if since is None else datetime_to_ns(since),
        until=None if until is None else datetime_to_ns(until),
    )
    page = await audit.list_audit(container, where, limit, cursor)
    items = [audit.audit_view(e) for e in page.items]
    return json_response(orjson.dumps({"items": items, "next_cursor": page.next_cursor}))
