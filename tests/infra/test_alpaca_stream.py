"""The Alpaca trade_updates stream's container app: reachable over WebSockets from outside,
always on, its secrets and image pulled with its own identity, its URL an azd output."""

from __future__ import annotations

from typing import Any

from tests.infra.bicep_model import body, module, parse


def _app() -> dict[str, Any]:
    return body(module("alpaca-stream")["resources"]["stream"])


def test_external_http_ingress_to_the_port_the_app_serves() -> None:
    ingress = _app()["properties"]["configuration"]["ingress"]
    assert ingress["external"] is True and ingress["allowInsecure"] is False
    assert ingress["transport"] == "http"  # WebSockets upgrade through it
    assert ingress["targetPort"] == "port"
    (container,) = _app()["properties"]["template"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    served = env["OMS_PORT"]["function"]
    assert (served["type"], served["parameters"]["value_to_convert"]) == ("string", "port")
    probes = module("alpaca-stream")["variables"]["probes"]["value"]
    assert {p["httpGet"]["path"] for p in probes} == {"/healthz"}


def test_at_least_one_replica_always_holds_the_connections() -> None:
    scale = _app()["properties"]["template"]["scale"]
    assert scale["minReplicas"] == 1 and scale["maxReplicas"] == "maxReplicas"


def test_secret_and_image_use_the_streams_own_identity() -> None:
    config = _app()["properties"]["configuration"]
    assert all(r["identity"] == "identityId" for r in config["registries"])
    (secret,) = config["secrets"]
    assert secret["keyVaultUrl"] == "mongoSecretUri" and secret["identity"] == "identityId"
    assert "value" not in secret


def test_the_stream_url_is_an_azd_output() -> None:
    outputs = parse("main.bicep")["outputs"]
    assert "ALPACA_STREAM_URL" in outputs and "SERVICE_ALPACA_STREAM_NAME" in outputs
    assert "/stream" in str(module("alpaca-stream")["outputs"]["uri"])
