"""The metrics as a Prometheus scraper reads them: names, labels, and values that add up."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from functions.http.metrics import mount_metrics
from shared.adapters.bus_memory import InMemoryBus, QueueOptions
from shared.observability import metrics
from shared.ports.bus import DEAD_LETTER_MAX_DELIVERY, BusMessage
from tests.support.telemetry import prometheus_metrics, scrape, value


def test_each_instrument_reads_as_its_prometheus_name_with_what_was_recorded():
    with prometheus_metrics() as registry:
        before = scrape(registry)
        for _ in range(3):
            metrics.order_accepted(0.002)
        metrics.order_refused("NOTIONAL_EXCEEDS_LIMIT")
        metrics.order_refused("NOTIONAL_EXCEEDS_LIMIT")
        metrics.order_refused("INVALID_PRICE")
        metrics.order_first_fill(0.5)
        metrics.matcher_batch("AAPL", 3, 0.001, 0.25)
        metrics.matcher_batch("MSFT", 0, 0.0, 0.0)
        metrics.projected("AAPL", 0.02)
        metrics.feed_sent("orderUpdated")
        metrics.feed_sent("orderUpdated")
        metrics.dead_lettered("orders", "MalformedCommand")
        after = scrape(registry)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("oms_orders_accepted_total") == 3
    assert grew("oms_orders_refused_total", reason="NOTIONAL_EXCEEDS_LIMIT") == 2
    assert grew("oms_orders_refused_total", reason="INVALID_PRICE") == 1
    assert grew("oms_order_acceptance_duration_seconds_count") == 3
    assert grew("oms_order_acceptance_duration_seconds_bucket", le="0.0025") == 3
    assert grew("oms_order_acceptance_duration_seconds_bucket", le="0.001") == 0
    assert grew("oms_order_fill_duration_seconds_sum") == 0.5
    assert grew("oms_matcher_batch_duration_seconds_count", symbol="AAPL") == 1
    assert grew("oms_matcher_batch_commands_sum", symbol="AAPL") == 3
    assert grew("oms_matcher_batch_duration_seconds_count", symbol="MSFT") == 0  # empty batch
    assert value(after, "oms_matcher_backlog_seconds", symbol="AAPL") == 0.25
    assert value(after, "oms_matcher_backlog_seconds", symbol="MSFT") == 0.0
    assert grew("oms_projector_lag_seconds_count", symbol="AAPL") == 1
    assert grew("oms_feed_messages_total", target="orderUpdated") == 2
    assert grew("oms_bus_dead_letters_total", queue="orders", reason="MalformedCommand") == 1


def test_with_metrics_off_counts_still_add_up_and_histograms_record_nothing():
    accepted = metrics.tallies.accepted
    metrics.order_accepted(0.001)  # no meter installed: a plain count, no histogram
    assert metrics.tallies.accepted == accepted + 1
    with prometheus_metrics() as registry:
        samples = scrape(registry)
    assert value(samples, "oms_orders_accepted_total") == metrics.tallies.accepted
    assert value(samples, "oms_order_acceptance_duration_seconds_count") == 0


async def test_the_in_memory_bus_counts_what_it_dead_letters_by_queue_and_reason():
    bus = InMemoryBus({"requests": QueueOptions(max_delivery_count=1)})
    before = dict(metrics.tallies.dead_letters)
    await bus.send("requests", [BusMessage(b"1", "m-1"), BusMessage(b"2", "m-2")])
    receiver = await bus.queue_receiver("requests")
    first, second = await receiver.receive(2)
    await receiver.dead_letter(first, "UnknownAccount", "no such account")
    await receiver.abandon(second)  # its last delivery: Service Bus's own reason
    after = metrics.tallies.dead_letters
    assert after["requests", "UnknownAccount"] - before.get(("requests", "UnknownAccount"), 0) == 1
    reason = DEAD_LETTER_MAX_DELIVERY
    assert after["requests", reason] - before.get(("requests", reason), 0) == 1
    assert len(await bus.dead_letters("requests")) == 2


async def test_metrics_are_served_to_loopback_clients_only():
    app = FastAPI()
    with prometheus_metrics() as registry:
        mount_metrics(app, registry)
        for host, status in (("127.0.0.1", 200), ("::1", 200), ("203.0.113.7", 403)):
            transport = httpx.ASGITransport(app=app, client=(host, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://oms") as http:
                response = await http.get("/api/metrics")
            assert response.status_code == status, host
            if status == 200:
                assert "oms_orders_accepted_total" in response.text
            else:
                assert response.json()["reason"] == "FORBIDDEN"
