"""SignalR Service access-key tokens: HS256 JWTs signed with the access key (UTF-8 bytes).

REST calls carry `aud` = the request URL without query string or trailing slash; client tokens
carry `aud` = the client URL (`{endpoint}/client/?hub={hub}`) and `nameid` = the user id.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

USER_CLAIM = "nameid"
_ALGORITHM = "HS256"


class TokenError(Exception):
    """The token is missing, malformed, expired, badly signed or for another audience."""


def sign_token(
    access_key: str,
    audience: str,
    *,
    user_id: str | None = None,
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """An access-key JWT for `audience`, naming `user_id` when given."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {"aud": audience, "iat": issued, "exp": issued + ttl_seconds}
    if user_id is not None:
        claims[USER_CLAIM] = user_id
    return jwt.encode(claims, access_key.encode("utf-8"), algorithm=_ALGORITHM)


def rest_audience(url: str) -> str:
    """The `aud` of a REST call: the request URL without query string or trailing slash."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def client_url(endpoint: str, hub: str) -> str:
    """The URL a client connects to for `hub` (also the `aud` of its token)."""
    return f"{endpoint.rstrip('/')}/client/?hub={hub}"


def verify_token(access_key: str, token: str) -> dict[str, object]:
    """The claims of a valid, unexpired token signed with `access_key` (audience not checked)."""
    if not token:
        raise TokenError("missing access token")
    try:
        claims: dict[str, object] = jwt.decode(
            token,
            access_key.encode("utf-8"),
            algorithms=[_ALGORITHM],
            options={"require": ["exp", "aud"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    return claims


def audience_matches(aud: object, path: str, hub: str | None = None) -> bool:
    """Whether `aud` names this request path (and hub, for client URLs).

    Scheme, host and port are not compared: clients reach the hub through different host
    names (signalrcore even sends a Host header without the port); the signature is the check.
    """
    if not isinstance(aud, str):
        return False
    parts = urlsplit(aud)
    if unquote(parts.path).rstrip("/") != path.rstrip("/"):
        return False
    if hub is None:
        return True
    return [h.lower() for h in parse_qs(parts.query).get("hub", [])] == [hub.lower()]
