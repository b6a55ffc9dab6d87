"""The UUIDs Alpaca's API types as UUIDs, from this OMS's own ids: stable, so the same
account, asset, order or execution always has the same UUID.

Orders: an order id (32 hex digits, `shared.domain.ids.new_order_id`) is already a UUID's
128 bits, so an order's first Alpaca id is its order id. A contingent group's exit legs have
the head's id with `-tp` / `-sl` (`shared.services.groups.leg_order_id`): their Alpaca ids are
the head's 128 bits XOR a constant of each leg, so an Alpaca id leads back to its order.
Alpaca's replace gives the order a new id each time (the OMS replaces in place and keeps one
order id): the id after a replace is derived from the order id and the client order id the
replace gave it (`replacement_id`), and `shared.alpaca.generations` records it so it can be
looked up.
"""

from __future__ import annotations

import re
import uuid

_ACCOUNTS = uuid.UUID("2b0f7c55-6d1e-5c3a-8f4b-9a1d3e5f7a01")
_ASSETS = uuid.UUID("5d3e8a77-2c4f-5b6e-9d1a-3f5b7c9e1a02")
_REPLACEMENTS = uuid.UUID("8f1a2b3c-4d5e-5f60-8172-93a4b5c6d703")
_EXECUTIONS = uuid.UUID("a4b5c6d7-e8f9-5a0b-8c1d-2e3f4a5b6c04")
_OTHER_ORDERS = uuid.UUID("c7d8e9fa-0b1c-5d2e-9f30-4a5b6c7d8e05")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_LEG = re.compile(r"^([0-9a-f]{32})-(tp|sl)$")
_LEG_MASKS = {
    "tp": uuid.UUID("3e6b1f2a-9c4d-5e7f-8a1b-2c3d4e5f6a71").int,
    "sl": uuid.UUID("9d2c4e6f-1a3b-5c5d-8e7f-0a1b2c3d4e82").int,
}


def account_uuid(account_id: str) -> str:
    """The account's Alpaca id (its key id, APCA-API-KEY-ID, stays the account id)."""
    return str(uuid.uuid5(_ACCOUNTS, account_id))


def asset_uuid(symbol: str) -> str:
    """The Alpaca asset id of an instrument (by its symbol in this OMS)."""
    return str(uuid.uuid5(_ASSETS, symbol))


def order_uuid(order_id: str) -> str:
    """The first Alpaca id of an order: its order id, as a UUID."""
    if _HEX32.match(order_id):
        return str(uuid.UUID(hex=order_id))
    leg = _LEG.match(order_id)
    if leg is not None:
        head, suffix = leg.groups()
        return str(uuid.UUID(int=int(head, 16) ^ _LEG_MASKS[suffix]))
    return str(uuid.uuid5(_OTHER_ORDERS, order_id))  # no such ids are made; kept total


def order_ids_of(alpaca_id: uuid.UUID) -> list[str]:
    """The order ids an order's first Alpaca id may stand for: an order's own, or a leg's of
    the group whose head's id it is XOR that leg's constant."""
    return [alpaca_id.hex] + [
        f"{alpaca_id.int ^ mask:032x}-{suffix}" for suffix, mask in _LEG_MASKS.items()
    ]


def replacement_id(order_id: str, client_order_id: str) -> str:
    """The Alpaca id of an order after the replace that gave it `client_order_id`."""
    return str(uuid.uuid5(_REPLACEMENTS, f"{order_id}\n{client_order_id}"))


def execution_uuid(execution_id: str) -> str:
    """The Alpaca id of an execution (a fill)."""
    return str(uuid.uuid5(_EXECUTIONS, execution_id))


def parse_uuid(text: str) -> uuid.UUID | None:
    """The UUID in `text` (any of its usual spellings), None if it is not one."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
