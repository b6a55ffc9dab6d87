"""Secure by default: no keys where a service offers Microsoft Entra ID, no secrets out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.infra.bicep_model import body, module, parse, resources, secret_reads, walk

# (module, resource type, property path, value that turns local/key auth off)
IDENTITY_ONLY = [
    ("storage", "Microsoft.Storage/storageAccounts", "properties.allowSharedKeyAccess", False),
    ("storage", "Microsoft.Storage/storageAccounts", "properties.allowBlobPublicAccess", False),
    ("servicebus", "Microsoft.ServiceBus/namespaces", "properties.disableLocalAuth", True),
    ("signalr", "Microsoft.SignalRService/signalR", "properties.disableLocalAuth", True),
    ("redis", "Microsoft.Cache/redis", "properties.disableAccessKeyAuthentication", True),
    ("redis", "Microsoft.Cache/redis", "properties.enableNonSslPort", False),
    ("appinsights", "Microsoft.Insights/components", "properties.DisableLocalAuth", True),
    (
        "loganalytics",
        "Microsoft.OperationalInsights/workspaces",
        "properties.features.disableLocalAuth",
        True,
    ),
    ("registry", "Microsoft.ContainerRegistry/registries", "properties.adminUserEnabled", False),
    (
        "registry",
        "Microsoft.ContainerRegistry/registries",
        "properties.anonymousPullEnabled",
        False,
    ),
    ("keyvault", "Microsoft.KeyVault/vaults", "properties.enableRbacAuthorization", True),
    ("functionapp", "Microsoft.Web/sites", "properties.httpsOnly", True),
]

# Switches that must never appear with the insecure value anywhere in infra/.
FORBIDDEN_ANYWHERE = {
    "disableLocalAuth": False,
    "DisableLocalAuth": False,
    "allowSharedKeyAccess": True,
    "adminUserEnabled": True,
    "disableAccessKeyAuthentication": False,
    "enableNonSslPort": True,
    "allowBlobPublicAccess": True,
}


def _get(config: dict[str, Any], path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = value[part]
    return value


@pytest.mark.parametrize(("mod", "type_", "path", "expected"), IDENTITY_ONLY)
def test_resource_turns_off_key_and_local_auth(
    mod: str, type_: str, path: str, expected: bool
) -> None:
    found = resources(module(mod), type_)
    assert found, f"{type_} missing from {mod}.bicep"
    for symbol, config in found.items():
        assert _get(config, path) is expected, f"{mod}.bicep {symbol}.{path}"


def test_no_resource_anywhere_turns_local_auth_back_on() -> None:
    from tests.infra.bicep_model import INFRA, bicep_files

    for path in bicep_files():
        tree = parse(str(path.relative_to(INFRA)))
        for node in walk(tree.get("resources", {})):
            if isinstance(node, dict):
                for key, bad in FORBIDDEN_ANYWHERE.items():
                    assert node.get(key, not bad) is not bad, f"{path.name}: {key}={bad}"


def test_redis_accepts_entra_tokens() -> None:
    (redis,) = resources(module("redis"), "Microsoft.Cache/redis").values()
    config = {k.strip("'"): v for k, v in redis["properties"]["redisConfiguration"].items()}
    assert config["aad-enabled"] == "true"


def test_signalr_runs_serverless() -> None:
    (signalr,) = resources(module("signalr"), "Microsoft.SignalRService/signalR").values()
    assert {"flag": "ServiceMode", "value": "Serverless"} in signalr["properties"]["features"]


def test_function_app_basic_publishing_credentials_are_off() -> None:
    policies = resources(
        module("functionapp"), "Microsoft.Web/sites/basicPublishingCredentialsPolicies"
    )
    assert {p["name"] for p in policies.values()} == {"ftp", "scm"}
    assert all(p["properties"]["allow"] is False for p in policies.values())


def test_function_app_uses_identity_for_storage_deployment_and_key_vault() -> None:
    fn = module("functionapp")
    site = body(fn["resources"]["api"])
    deployment = site["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert deployment["authentication"]["type"] == "UserAssignedIdentity"
    assert site["properties"]["keyVaultReferenceIdentity"] == "identityId"
    runtime = site["properties"]["functionAppConfig"]["runtime"]
    assert runtime == {"name": "python", "version": "3.11"}
    settings = body(fn["resources"]["appSettings"])["properties"]
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["ServiceBusConnection__credential"] == "managedidentity"
    assert "AzureWebJobsStorage" not in settings, "no storage connection string in Azure"


def test_the_mongodb_connection_string_only_goes_into_key_vault() -> None:
    cosmos = module("cosmos")
    for symbol, res in cosmos["resources"].items():
        reads = secret_reads(res)
        if reads:
            assert res["type"] == "Microsoft.KeyVault/vaults/secrets", symbol
    assert not secret_reads(cosmos.get("outputs", {}))
    app_settings = body(module("functionapp")["resources"]["appSettings"])["properties"]
    assert app_settings["MONGODB_URI"].startswith("@Microsoft.KeyVault(SecretUri=")


# Output names that look secret but are not: App Insights' connection string carries no
# credential once local auth is off (telemetry needs an Entra token); the others are names.
NOT_SECRET_OUTPUTS = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "MONGODB_URI_SECRET_NAME",
    "AZURE_KEY_VAULT_NAME",
    "AZURE_KEY_VAULT_ENDPOINT",
}
SECRET_LOOKING = re.compile(r"KEY|PASSWORD|SECRET|CONNECTION_STRING|TOKEN|MONGODB_URI", re.I)


def test_outputs_contain_no_secrets() -> None:
    from tests.infra.bicep_model import INFRA, bicep_files

    for path in bicep_files():
        tree = parse(str(path.relative_to(INFRA)))
        outputs = tree.get("outputs", {})
        assert not secret_reads(outputs), f"{path.name} outputs a listKeys/listConnectionStrings"
        secure_params = {
            name
            for name, p in tree.get("parameters", {}).items()
            if any(d.get("type") == "secure" for d in p["decorators"])
        }
        for name, out in outputs.items():
            used = {n for n in walk(out["value"]) if isinstance(n, str)}
            assert not used & secure_params, f"{path.name}: output {name} uses a @secure() param"
    for name in parse("main.bicep")["outputs"]:
        if name not in NOT_SECRET_OUTPUTS:
            assert not SECRET_LOOKING.search(name), f"main.bicep output {name} looks secret"
