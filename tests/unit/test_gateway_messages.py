"""Messages to venue gateways: requests survive the bus whole (decimals as decimals), keyed
by the venue's session and the client order id; anything else is refused by name."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from shared.domain.enums import AccountType, OrderType, Side, TimeInForce
from shared.domain.instrument import Instrument
from shared.gateway_messages import decode, request_message, venue_defined_message
from shared.ports.store_accounts import Account
from shared.ports.venue import VenueCancel, VenueOrder, VenueReplace, VenueRequest
from shared.services.venues import venue_for

T0 = 1_750_000_000_000_000_000


def test_each_request_kind_round_trips_through_its_message():
    requests: list[VenueRequest] = [
        VenueOrder("o-1", "AAPL", Side.BUY, OrderType.STOP_LIMIT, TimeInForce.GTD,
                   Decimal("0.125"), T0, Decimal("10.05"), Decimal("10"), T0 + 1, "desk"),
        VenueCancel("o-1.c", "o-1", "AAPL", Side.BUY, Decimal("0.125"), T0, "V9", True),
        VenueReplace("o-1.r", "o-1", "AAPL", Side.BUY, OrderType.LIMIT, TimeInForce.DAY,
                     Decimal(2), T0, Decimal("9.99")),
    ]  # fmt: skip
    for request in requests:
        message = request_message("acme", "AAPL", request)
        kind, venue, symbol, decoded = decode(message.body)
        assert (venue, symbol, decoded) == ("acme", "AAPL", request)
        assert (message.session_id, message.message_id) == ("acme", f"acme:{request.cl_ord_id}")
        assert kind in ("place", "cancel", "replace")


def test_a_venue_defined_message_wakes_the_venues_session():
    message = venue_defined_message("acme", 5)
    assert message.session_id == "acme"
    assert decode(message.body) == ("venue_defined", "acme", "", None)


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'{"kind": "teleport", "venue": "acme"}',
        b'{"kind": "place", "venue": "acme", "symbol": "AAPL"}',
        b'{"kind": "place", "venue": "acme", "request": {"cl_ord_id": "x"}}',
        b"not json",
    ],
)
def test_malformed_gateway_messages_are_refused(body: bytes):
    with pytest.raises(ValueError):
        decode(body)


def test_a_bad_side_in_a_request_is_refused():
    body = orjson.loads(request_message("acme", "AAPL", VenueCancel(
        "c", "o", "AAPL", Side.SELL, Decimal(1), T0)).body)  # fmt: skip
    body["request"]["side"] = "sideways"
    with pytest.raises(ValueError):
        decode(orjson.dumps(body))


def test_routing_takes_the_instruments_venue_then_the_accounts_for_live_accounts_only():
    live = Account("a", "desk", AccountType.LIVE, "h", venue="acme")
    paper = Account("p", "sim", AccountType.PAPER, "h", venue="acme")
    plain = Instrument("AAPL", Decimal("0.01"), Decimal(1))
    routed = Instrument("BTC", Decimal("0.01"), Decimal(1), venue="coinx")

    assert venue_for(live, plain) == "acme"
    assert venue_for(live, routed) == "coinx"
    assert venue_for(Account("b", "x", AccountType.LIVE, "h"), plain) is None
    assert venue_for(paper, routed) is None
