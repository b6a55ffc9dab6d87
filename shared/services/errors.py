"""Errors the services raise: each names a stable reason code and, when one is to blame, the
request field. Entrypoints map the class to a status (HTTP) or a feed message (bots)."""

from __future__ import annotations


class ServiceError(Exception):
    """A request the service refuses; nothing changed."""

    def __init__(self, reason: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.field = field


class InvalidRequest(ServiceError):
    """The request is malformed or breaks a rule of the instrument (grid, limits)."""


class RiskRefused(ServiceError):
    """A pre-trade risk check refused the order."""


class RateLimited(RiskRefused):
    """The account's order rate is exhausted; retry after `retry_after` seconds."""

    def __init__(self, reason: str, detail: str, retry_after: float) -> None:
        super().__init__(reason, detail)
        self.retry_after = retry_after


class NotFound(ServiceError):
    """The thing does not exist for this caller (another account's order is not found)."""


class Conflict(ServiceError):
    """The request conflicts with the current state (duplicate id, order no longer open)."""


class Unauthenticated(ServiceError):
    """No valid credentials."""


class Forbidden(ServiceError):
    """Authenticated, but the role does not allow this."""


class Unavailable(ServiceError):
    """A service the request needs cannot be reached now; nothing changed, retry later."""
