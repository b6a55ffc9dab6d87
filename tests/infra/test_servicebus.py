"""Service Bus queues give the matcher and the executions consumer what they rely on."""

from __future__ import annotations

from typing import Any

from tests.infra.bicep_model import module, parse, resource

SESSION_QUEUES = ("ordersQueue", "executionsQueue", "venuesQueue")


def _queue(symbol: str) -> dict[str, Any]:
    props: dict[str, Any] = resource(module("servicebus"), symbol)["properties"]
    return props


def test_orders_executions_and_venues_queues_require_sessions() -> None:
    for symbol in SESSION_QUEUES:
        assert _queue(symbol)["requiresSession"] is True, symbol


def test_every_queue_has_duplicate_detection_with_a_window() -> None:
    for symbol in (*SESSION_QUEUES, "orderRequestsQueue"):
        props = _queue(symbol)
        assert props["requiresDuplicateDetection"] is True, symbol
        assert props["duplicateDetectionHistoryTimeWindow"], symbol


def test_every_queue_dead_letters_instead_of_dropping() -> None:
    sb = module("servicebus")
    for symbol in (*SESSION_QUEUES, "orderRequestsQueue"):
        props = _queue(symbol)
        assert props["deadLetteringOnMessageExpiration"] is True, symbol
        assert props["maxDeliveryCount"] == "maxDeliveryCount", symbol
    max_delivery = sb["parameters"]["maxDeliveryCount"]["default"]
    assert 1 < max_delivery <= 10


def test_queue_names_are_the_settings_defaults() -> None:
    from shared.config.settings import Settings

    params = module("servicebus")["parameters"]
    fields = Settings.model_fields
    assert params["ordersQueueName"]["default"] == fields["ORDERS_QUEUE"].default
    assert params["executionsQueueName"]["default"] == fields["EXECUTIONS_QUEUE"].default
    assert params["orderRequestsQueueName"]["default"] == fields["ORDER_REQUESTS_QUEUE"].default
    assert params["venuesQueueName"]["default"] == fields["VENUES_QUEUE"].default


def test_namespace_is_standard_by_default_and_premium_by_parameter() -> None:
    sb = module("servicebus")
    assert sb["parameters"]["sku"]["default"] == "Standard"
    assert sb["variables"]["premiumSku"]["value"]["name"] == "Premium"
    assert (
        parse("main.bicep")["modules"]["serviceBus"]["config"]["params"]["sku"] == "serviceBusSku"
    )
