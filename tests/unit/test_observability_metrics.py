"""The metrics as a Prometheus scraper reads them: names, labels, and values that add up."""

from __future__ import annotations

from prometheus_client import generate_latest

from shared.observability import metrics
from tests.support.telemetry import parse_exposition, prometheus_metrics, value


def test_each_instrument_reads_as_its_prometheus_name_with_what_was_recorded():
    with prometheus_metrics() as registry:
        before = parse_exposition(generate_latest(registry).decode())
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
        after = parse_exposition(generate_latest(registry).decode())

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
        samples = parse_exposition(generate_latest(registry).decode())
    assert value(samples, "oms_orders_accepted_total") == metrics.tallies.accepted
    assert value(samples, "oms_order_acceptance_duration_seconds_count") == 0
