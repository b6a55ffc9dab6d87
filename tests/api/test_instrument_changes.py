"""An instrument's fee change through the admin API reaches the matcher (ConfigureInstrument,
sent before the change is stored), and changes the matcher has no part in send nothing."""

from __future__ import annotations

from shared.domain.commands import ConfigureInstrument
from tests.api.test_order_instructions import recorded
from tests.support.oms import Client, Oms, Transport, bus_down


async def test_a_fee_change_is_sent_to_the_instruments_matcher(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", reference_price="100", maker_fee_cbps=10, taker_fee_cbps=25)
    admin = Client(functions_transport, oms.admin_key)

    with recorded(oms) as sent:
        fees = await admin.call("PATCH", "/api/admin/instruments/ABC", json={"taker_fee_cbps": 40})
        collar = await admin.call(
            "PATCH", "/api/admin/instruments/ABC", json={"price_collar_bps": 500}
        )

    assert (fees.status, collar.status) == (200, 200)
    assert (fees.json()["maker_fee_cbps"], fees.json()["taker_fee_cbps"]) == (10, 40)
    assert [(type(c), c.symbol) for c in sent] == [(ConfigureInstrument, "ABC")]
    command = sent[0]
    assert isinstance(command, ConfigureInstrument)
    assert (command.maker_fee_cbps, command.taker_fee_cbps) == (10, 40)


async def test_a_fee_change_the_matcher_cannot_get_is_not_stored(
    oms: Oms, functions_transport: Transport
) -> None:
    await oms.add_instrument("ABC", reference_price="100", taker_fee_cbps=25)
    admin = Client(functions_transport, oms.admin_key)

    with bus_down(oms.container.bus):
        reply = await admin.call("PATCH", "/api/admin/instruments/ABC", json={"taker_fee_cbps": 1})

    assert (reply.status, reply.json()["reason"]) == (503, "SERVICE_UNAVAILABLE")
    shown = await admin.call("GET", "/api/instruments/ABC")
    assert shown.json()["taker_fee_cbps"] == 25
