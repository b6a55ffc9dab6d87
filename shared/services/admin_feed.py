"""Who hears the admin feed (`auditRecorded`, see shared.feeds.streams): admins' accounts.

The SignalR group `admin` holds users (accounts), never single connections: a connection's
owner cannot be checked on SignalR Service, while an account's roles can. An account joins
with its admin role checked before and after the join (a demotion stored meanwhile takes it
out again), and an account whose roles lose `admin` is taken out once the change is stored:
at once, else retried in the background while SignalR does not answer, so revoking a role
never waits for the live feeds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from shared.ports.notifier import NotifierError
from shared.services import codes
from shared.services.auth import ADMIN, Caller
from shared.services.deps import Deps
from shared.services.errors import Forbidden

log = logging.getLogger(__name__)

LEAVE_RETRIES: Final = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)  # seconds between tries


async def join(deps: Deps, caller: Caller) -> None:
    """Put every connection of the caller's account (now and later) in the admin group."""
    caller.require(ADMIN)
    account_id = caller.account_id
    await deps.feeds.join_admins(account_id)
    # A demotion stored after the check above may have left before this join: read again.
    fresh = await deps.store.accounts.get(account_id)
    from_principal = caller.roles - frozenset(caller.account.roles)  # Entra app roles
    if fresh is None or ADMIN not in frozenset(fresh.roles) | from_principal:
        await deps.feeds.leave_admins(account_id)
        raise Forbidden(codes.FORBIDDEN, "this needs the 'admin' role")


async def leave(deps: Deps, account_id: str) -> None:
    """Take the account (all its connections) out of the admin group."""
    await deps.feeds.leave_admins(account_id)


async def demoted(deps: Deps, account_id: str) -> None:
    """The account's roles, stored without `admin`: take it out of the admin group now, or
    keep trying in the background (logged) while SignalR does not answer."""
    try:
        await deps.feeds.leave_admins(account_id)
    except NotifierError as error:
        log.error("account %s is still on the admin feed (%s): retrying", account_id, error)
        deps.background.spawn(_leave_until_done(deps, account_id), "leaving the admin feed")


async def _leave_until_done(deps: Deps, account_id: str) -> None:
    for wait in LEAVE_RETRIES:
        await asyncio.sleep(wait)
        try:
            await deps.feeds.leave_admins(account_id)
        except NotifierError as error:
            log.error("account %s is still on the admin feed (%s)", account_id, error)
            continue
        log.info("account %s is off the admin feed", account_id)
        return
    log.critical("account %s could not be taken off the admin feed: leave it by hand", account_id)
