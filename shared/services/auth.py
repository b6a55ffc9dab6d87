"""Who is calling: an API key (X-API-Key) or, in Azure, the App Service authentication
principal (X-MS-CLIENT-PRINCIPAL), resolved to an account and its roles."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

import orjson

from shared.api_keys import hash_api_key
from shared.ports.store_accounts import Account
from shared.services import codes
from shared.services.deps import Deps
from shared.services.errors import Forbidden, Unauthenticated

ADMIN = "admin"
TRADER = "trader"
_OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller: every query is scoped to `account`."""

    account: Account
    roles: frozenset[str]

    @property
    def account_id(self) -> str:
        return self.account.account_id

    def require(self, role: str) -> None:
        """Raise Forbidden unless the caller has `role`."""
        if role not in self.roles:
            raise Forbidden(codes.FORBIDDEN, f"this needs the {role!r} role")


async def authenticate(
    deps: Deps, *, api_key: str | None, client_principal: str | None, trust_principal: bool
) -> Caller:
    """The caller for these credentials; Unauthenticated when there are none or they fail.

    The principal header is trusted only where App Service authentication sets it (it strips
    any the client sent); elsewhere it is ignored."""
    if api_key:
        account = await deps.store.accounts.get_by_api_key_hash(hash_api_key(api_key))
        # Compare again in constant time: the lookup by hash is an index probe.
        if account is None or not hmac.compare_digest(account.api_key_hash, hash_api_key(api_key)):
            raise Unauthenticated(codes.UNAUTHENTICATED, "the API key is not valid")
        return Caller(account, frozenset(account.roles))
    if client_principal and trust_principal:
        object_id, principal_roles = _parse_principal(client_principal)
        account = await deps.store.accounts.get(object_id)
        if account is None:
            raise Unauthenticated(codes.UNAUTHENTICATED, "no account for this principal")
        return Caller(account, frozenset(account.roles) | principal_roles)
    raise Unauthenticated(codes.UNAUTHENTICATED, "send an API key in the X-API-Key header")


def _parse_principal(header: str) -> tuple[str, frozenset[str]]:
    """(object id, app roles) of a base64 X-MS-CLIENT-PRINCIPAL header."""
    try:
        data = orjson.loads(base64.b64decode(header, validate=False))
        claims = [(str(c["typ"]), str(c["val"])) for c in data["claims"]]
        role_type = str(data.get("role_typ") or "roles")
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise Unauthenticated(codes.UNAUTHENTICATED, "malformed client principal") from None
    object_ids = [val for typ, val in claims if typ in _OBJECT_ID_CLAIMS]
    if not object_ids:
        raise Unauthenticated(codes.UNAUTHENTICATED, "the principal has no object id")
    roles = frozenset(val for typ, val in claims if typ in (role_type, "roles"))
    return object_ids[0], roles
