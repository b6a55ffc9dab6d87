"""Both apps send their OpenTelemetry traces, metrics and logs to the provisioned
Application Insights, with their own identity (the resource takes Entra ID tokens only)."""

from __future__ import annotations

import json

from tests.infra.bicep_model import ROOT, accessor_path, parse
from tests.infra.test_settings_names import function_app_settings, matcher_env


def _module_params(name: str) -> dict[str, object]:
    params: dict[str, object] = parse("main.bicep")["modules"][name]["config"]["params"]
    return params


def test_the_functions_host_and_worker_export_opentelemetry_to_application_insights() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["telemetryMode"] == "OpenTelemetry"
    settings = function_app_settings()
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    # The same instrumentations off as in the matcher's configure_azure_monitor call.
    from shared.observability.setup import INSTRUMENTATIONS_OFF

    disabled = settings["OTEL_PYTHON_DISABLED_INSTRUMENTATIONS"].split(",")
    assert sorted(disabled) == sorted(INSTRUMENTATIONS_OFF)
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == (
        "applicationInsightsConnectionString"
    )
    # Entra ID with the Function App's user-assigned identity, not an instrumentation key.
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        "ClientId=${identityClientId};Authorization=AAD"
    )
    assert accessor_path(_module_params("api")["applicationInsightsConnectionString"]) == [
        "appInsights",
        "outputs",
        "connectionString",
    ]


def test_the_matcher_exports_with_its_identity() -> None:
    env = {e["name"]: e.get("value") for e in matcher_env()}
    assert env["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "applicationInsightsConnectionString"
    assert env["AZURE_CLIENT_ID"] == "identityClientId"  # the credential the exporter uses
    assert accessor_path(_module_params("matcher")["applicationInsightsConnectionString"]) == [
        "appInsights",
        "outputs",
        "connectionString",
    ]


def test_both_apps_log_json_at_info_with_metrics_on() -> None:
    env = {e["name"]: e.get("value") for e in matcher_env()}
    settings = function_app_settings()
    for values in (env, settings):
        assert (values["OMS_LOG_LEVEL"], values["OMS_LOG_FORMAT"], values["OMS_METRICS"]) == (
            "INFO",
            "json",
            "true",
        )
