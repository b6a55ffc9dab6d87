"""Errors the store ports raise. Adapters translate their driver's errors into these."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every store error."""


class StoreUnavailable(StoreError):
    """The database cannot be reached (readiness fails; callers may retry later)."""


class NotFound(StoreError):
    """The record to update does not exist (for this account)."""


class InvalidCursor(StoreError, ValueError):
    """A pagination cursor that this store did not issue (the API answers 400)."""


class DuplicateClientOrderId(StoreError):
    """The account already has an order with this client order id."""

    def __init__(self, account_id: str, client_order_id: str, existing_order_id: str) -> None:
        super().__init__(
            f"client_order_id {client_order_id!r} already used by order {existing_order_id}"
        )
        self.account_id = account_id
        self.client_order_id = client_order_id
        self.existing_order_id = existing_order_id


class DuplicateOrderId(StoreError):
    """An order with this order id exists already."""


class VersionConflict(StoreError):
    """A conditional update found another version stored: the writer's copy is stale.

    Re-read, re-apply and retry; `actual_version` is the stored version.
    """

    def __init__(self, key: str, expected_version: int, actual_version: int) -> None:
        super().__init__(f"{key}: expected version {expected_version}, found {actual_version}")
        self.key = key
        self.expected_version = expected_version
        self.actual_version = actual_version


class JournalConflict(StoreError):
    """A journal entry's sequence range collides with (or leaves a gap after) what is stored."""


class DuplicateInstrument(StoreError):
    """An instrument with this symbol exists already."""


class DuplicateAccount(StoreError):
    """An account with this account id exists already."""


class DuplicateApiKey(StoreError):
    """Another account already holds this API key hash."""


class DuplicateVenue(StoreError):
    """A venue with this name exists already."""
