"""Snapshot of every function's bindings as the Functions host reads them."""

from __future__ import annotations

import json

import function_app


def bindings() -> dict[str, list[dict[str, object]]]:
    return {
        str(f.get_function_name()): json.loads(f.get_function_json())["bindings"]
        for f in function_app.app.get_functions()
    }


def test_function_bindings_snapshot():
    assert bindings() == {
        "http_app_func": [
            {
                "direction": "IN",
                "type": "httpTrigger",
                "name": "req",
                "methods": ["GET", "POST", "DELETE", "HEAD", "PATCH", "PUT", "OPTIONS"],
                "authLevel": "ANONYMOUS",
                "route": "/{*route}",
            },
            {"direction": "OUT", "type": "http", "name": "$return"},
        ],
        "executions": [
            {
                "direction": "IN",
                "type": "serviceBusTrigger",
                "name": "message",
                "connection": "ServiceBusConnection",
                "queueName": "%EXECUTIONS_QUEUE%",
                "isSessionsEnabled": True,
            }
        ],
        "order_requests": [
            {
                "direction": "IN",
                "type": "serviceBusTrigger",
                "name": "message",
                "connection": "ServiceBusConnection",
                "queueName": "%ORDER_REQUESTS_QUEUE%",
            }
        ],
        "outbox_sweep": [
            {
                "direction": "IN",
                "type": "timerTrigger",
                "name": "timer",
                "schedule": "*/30 * * * * *",
                "runOnStartup": False,
            }
        ],
    }


def test_importing_the_app_connects_to_nothing():
    # The container is built on first use, never at import time.
    assert function_app.provider._container is None
