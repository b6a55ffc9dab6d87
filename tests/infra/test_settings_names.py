"""Every setting the code reads is set in Azure under the same name, and listed locally.

The settings model (shared/config/settings.py) is the source of truth: its field names must
appear in the Function App's app settings, the matcher's environment and
local.settings.json.example, and those three hold nothing else except the Functions host
settings named below.
"""

from __future__ import annotations

import json
from typing import Any

from shared.config.settings import Settings
from tests.infra.bicep_model import ROOT, body, load_hook, module, parse

# Read by the Functions host (not by our code) in Azure: identity-based connections for the
# host storage and the Service Bus triggers (connection prefix "ServiceBusConnection"), and
# Entra authentication for Application Insights, and the Python worker's OpenTelemetry
# export to it (it configures azure-monitor-opentelemetry before our code runs, without the
# library instrumentations our own spans replace).
FUNCTIONS_HOST_AZURE = {
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "ServiceBusConnection__fullyQualifiedNamespace",
    "ServiceBusConnection__credential",
    "ServiceBusConnection__clientId",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
}

# Read by the Functions host locally (Core Tools): the worker runtime (in Azure it is
# functionAppConfig.runtime, where Flex Consumption forbids the app setting), Azurite as
# host storage, and the namespace for the Service Bus triggers (the developer's identity).
FUNCTIONS_HOST_LOCAL = {
    "FUNCTIONS_WORKER_RUNTIME",
    "AzureWebJobsStorage",
    "ServiceBusConnection__fullyQualifiedNamespace",
}


def model_names() -> set[str]:
    return set(Settings.model_fields)


def function_app_settings() -> dict[str, Any]:
    settings: dict[str, Any] = body(module("functionapp")["resources"]["appSettings"])["properties"]
    return settings


def matcher_env() -> list[dict[str, Any]]:
    app = body(module("matcher")["resources"]["matcher"])
    (container,) = app["properties"]["template"]["containers"]
    env: list[dict[str, Any]] = container["env"]
    return env


def stream_env() -> list[dict[str, Any]]:
    app = body(module("alpaca-stream")["resources"]["stream"])
    (container,) = app["properties"]["template"]["containers"]
    env: list[dict[str, Any]] = container["env"]
    return env


def example_values() -> dict[str, str]:
    values: dict[str, str] = json.loads((ROOT / "local.settings.json.example").read_text())[
        "Values"
    ]
    return values


def test_function_app_sets_exactly_the_model_settings_plus_host_settings() -> None:
    names = set(function_app_settings())
    assert model_names() - names == set(), "settings the code reads but Bicep does not set"
    assert names - model_names() - FUNCTIONS_HOST_AZURE == set(), "app settings nobody reads"
    assert names >= FUNCTIONS_HOST_AZURE


def test_matcher_sets_exactly_the_model_settings() -> None:
    names = [e["name"] for e in matcher_env()]
    assert len(names) == len(set(names)), "duplicate env names"
    assert set(names) == model_names()


def test_the_alpaca_stream_sets_exactly_the_model_settings() -> None:
    names = [e["name"] for e in stream_env()]
    assert len(names) == len(set(names)), "duplicate env names"
    assert set(names) == model_names()


def test_local_settings_example_lists_exactly_the_model_settings_plus_local_host_settings() -> None:
    names = set(example_values())
    assert names == model_names() | FUNCTIONS_HOST_LOCAL


def test_example_values_load_into_the_settings_model_as_the_local_defaults(
    monkeypatch: Any,
) -> None:
    # The Functions host exports Values as environment variables; do the same.
    for key, value in example_values().items():
        monkeypatch.setenv(key, value)
    loaded = Settings()
    defaults = Settings.model_construct()
    for name in model_names() - {"SNAPSHOTS_CONNECTION_STRING"}:  # Azurite, by design
        assert getattr(loaded, name) == getattr(defaults, name), name


def test_settings_bicep_leaves_empty_mean_unset(monkeypatch: Any) -> None:
    # Bicep sets keys that do not apply in Azure to "" (e.g. SIGNALR_ACCESS_KEY).
    for key, value in function_app_settings().items():
        if value == "" and key in model_names():
            monkeypatch.setenv(key, "")
    settings = Settings()
    assert settings.SIGNALR_ACCESS_KEY is None
    assert settings.SERVICEBUS_CONNECTION_STRING is None


def test_constant_settings_agree_between_the_two_apps() -> None:
    fn = function_app_settings()
    for entry in matcher_env():
        name = entry["name"]
        if isinstance(fn[name], str) and isinstance(entry.get("value"), str):
            if name in {"OMS_ADMIN_API_KEY"}:  # the matcher never serves the admin API
                continue
            assert entry["value"] == fn[name], name


def test_azd_outputs_feed_the_postprovision_hook() -> None:
    from_azd: dict[str, str] = load_hook().FROM_AZD_ENVIRONMENT
    outputs = set(parse("main.bicep")["outputs"])
    assert set(from_azd.values()) <= outputs
    assert set(from_azd) <= set(example_values())
