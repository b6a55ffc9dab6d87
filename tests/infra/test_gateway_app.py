"""The gateway container app: every setting, no ingress, credentials only as Key Vault
references by setting name, FIX session state on a volume that outlives a container."""

from __future__ import annotations

from typing import Any

from shared.config.settings import Settings
from tests.infra.bicep_model import body, module, parse


def _gateway() -> dict[str, Any]:
    return module("gateway")


def _app() -> dict[str, Any]:
    return body(_gateway()["resources"]["gateway"])


def test_the_gateway_sets_exactly_the_model_settings_plus_venue_credentials() -> None:
    variables = _gateway()["variables"]
    names = [e["name"] for e in variables["settingsEnv"]["value"]]
    assert len(names) == len(set(names))
    assert set(names) == set(Settings.model_fields)
    (container,) = _app()["properties"]["template"]["containers"]
    assert "settingsEnv" in str(container["env"]) and "credentialEnv" in str(container["env"])


def test_venue_credentials_are_key_vault_references_read_with_the_identity() -> None:
    variables = _gateway()["variables"]
    secret = variables["credentialSecrets"]["value"]["config"]
    env = variables["credentialEnv"]["value"]["config"]
    assert set(secret) == {"name", "keyVaultUrl", "identity"}, "no secret value in the template"
    assert secret["identity"] == "identityId"
    assert secret["keyVaultUrl"] == "${keyVaultEndpoint}secrets/${s.secretName}"
    assert set(env) == {"name", "secretRef"}
    assert _gateway()["parameters"]["venueSecrets"]["default"] == []


def test_session_state_lives_on_a_replica_volume_at_the_state_dir() -> None:
    template = _app()["properties"]["template"]
    (volume,) = template["volumes"]
    assert volume["storageType"] == "EmptyDir"
    (container,) = template["containers"]
    (mount,) = container["volumeMounts"]
    assert mount["volumeName"] == volume["name"] and mount["mountPath"] == "stateDir"
    env = {e["name"]: e.get("value") for e in _gateway()["variables"]["settingsEnv"]["value"]}
    assert env["GATEWAY_STATE_DIR"] == "stateDir"


def test_no_ingress_and_a_fixed_replica_count() -> None:
    app = _app()
    assert "ingress" not in app["properties"]["configuration"]
    scale = app["properties"]["template"]["scale"]
    assert scale["minReplicas"] == scale["maxReplicas"] == "replicas"
    # Several replicas: the session state is in the database, so one takes a venue over.
    assert _gateway()["parameters"]["replicas"]["default"] == 2
    main = parse("main.bicep")
    assert main["parameters"]["gatewayReplicas"]["default"] == 2
