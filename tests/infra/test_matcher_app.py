"""The matcher container app: always on, scaled by KEDA on `orders` with its identity."""

from __future__ import annotations

from typing import Any

from tests.infra.bicep_model import MODULES, body, module, parse


def _app() -> dict[str, Any]:
    return body(module("matcher")["resources"]["matcher"])


def test_scale_rule_is_azure_servicebus_on_orders_authenticated_with_the_identity() -> None:
    scale = _app()["properties"]["template"]["scale"]
    (rule,) = scale["rules"]
    custom = rule["custom"]
    assert custom["type"] == "azure-servicebus"
    assert custom["identity"] == "identityId"
    assert "auth" not in custom, "no connection-string secret for KEDA"
    assert custom["metadata"]["queueName"] == "ordersQueueName"
    assert custom["metadata"]["namespace"] == "serviceBusNamespaceName"
    assert "identityId" in {k.strip("'${}") for k in _app()["identity"]["userAssignedIdentities"]}


def test_at_least_one_replica_always_runs_and_the_cap_is_a_parameter() -> None:
    scale = _app()["properties"]["template"]["scale"]
    assert scale["minReplicas"] == 1
    assert scale["maxReplicas"] == "maxReplicas"
    main_param = module("matcher")["parameters"]["maxReplicas"]
    assert main_param["default"] >= 1


def test_replica_cap_is_documented_against_session_count() -> None:
    cap = parse("main.bicep")["parameters"]["matcherMaxReplicas"]
    (doc,) = [d["argument"] for d in cap["decorators"] if d["type"] == "description"]
    assert "matcherMaxSessions" in doc and "instruments" in doc
    assert "MATCHER_MAX_SESSIONS" in (MODULES / "matcher.bicep").read_text()


def test_image_pull_and_mongodb_secret_use_the_identity() -> None:
    config = _app()["properties"]["configuration"]
    assert all(r["identity"] == "identityId" for r in config["registries"])
    (secret,) = config["secrets"]
    assert secret["keyVaultUrl"] == "mongoSecretUri" and secret["identity"] == "identityId"
    assert "value" not in secret


def test_no_ingress_the_matcher_only_takes_work_from_service_bus() -> None:
    assert "ingress" not in _app()["properties"]["configuration"]
