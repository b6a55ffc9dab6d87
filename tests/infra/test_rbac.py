"""Each identity-to-resource use has its role assignment, in rbac.bicep, at a narrow scope."""

from __future__ import annotations

from typing import Any

from tests.infra.bicep_model import accessor_path, body, module, parse, resources

# Built-in role ids, written out independently of rbac.bicep so a typo there fails here.
ROLE_IDS = {
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageBlobDataContributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "serviceBusDataOwner": "090c5cfd-751d-490a-894a-3ce6f1109419",
    "serviceBusDataSender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "serviceBusDataReceiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "keyVaultSecretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
    "signalRServiceOwner": "7e4f1700-ea5a-4f59-8f37-079cfe29dce3",
    "signalRRestApiOwner": "fd53cd77-2268-407a-8f46-7e7863d0f521",
    "acrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}

# (principal, role, scope symbol in rbac.bicep): why the code needs it.
REQUIRED = {
    ("apiPrincipalId", "storageBlobDataOwner", "storage"),  # AzureWebJobsStorage + package
    ("apiPrincipalId", "serviceBusDataSender", "ordersQueue"),  # intake sends commands
    ("apiPrincipalId", "serviceBusDataReceiver", "orderRequestsQueue"),  # bot trigger
    ("apiPrincipalId", "serviceBusDataReceiver", "executionsQueue"),  # executions trigger
    ("apiPrincipalId", "signalRServiceOwner", "signalR"),  # negotiate + REST sends
    ("apiPrincipalId", "keyVaultSecretsUser", "mongoSecret"),  # MONGODB_URI reference
    ("apiPrincipalId", "monitoringMetricsPublisher", "appInsights"),  # Entra telemetry
    ("matcherPrincipalId", "serviceBusDataOwner", "ordersQueue"),  # sessions + KEDA counts
    ("matcherPrincipalId", "serviceBusDataSender", "executionsQueue"),  # publishes events
    ("matcherPrincipalId", "storageBlobDataContributor", "snapshotsContainer"),  # snapshots
    ("matcherPrincipalId", "acrPull", "registry"),  # image pull
    ("matcherPrincipalId", "signalRRestApiOwner", "signalR"),  # book and trade feeds
    ("matcherPrincipalId", "keyVaultSecretsUser", "mongoSecret"),  # MONGODB_URI reference
    ("matcherPrincipalId", "monitoringMetricsPublisher", "appInsights"),
    ("apiPrincipalId", "serviceBusDataSender", "venuesQueue"),  # a new venue wakes a gateway
    ("gatewayPrincipalId", "serviceBusDataReceiver", "venuesQueue"),  # venue sessions (leases)
    ("gatewayPrincipalId", "acrPull", "registry"),  # image pull
    ("gatewayPrincipalId", "keyVaultSecretsUser", "mongoSecret"),  # MONGODB_URI reference
    ("gatewayPrincipalId", "keyVaultSecretsUser", "venueSecrets[]"),  # each venue credential
    ("gatewayPrincipalId", "signalRRestApiOwner", "signalR"),  # a venue down / up to admins
    ("gatewayPrincipalId", "monitoringMetricsPublisher", "appInsights"),
    ("streamPrincipalId", "acrPull", "registry"),  # image pull
    ("streamPrincipalId", "signalRRestApiOwner", "signalR"),  # :generateToken per account
    ("streamPrincipalId", "keyVaultSecretsUser", "mongoSecret"),  # MONGODB_URI: key checks
    ("streamPrincipalId", "monitoringMetricsPublisher", "appInsights"),
}


def _scope(scope: Any) -> str:
    """A scope symbol; one element of an `existing` resource loop reads `name[]`."""
    if isinstance(scope, str):
        return scope
    operator = scope["operator"]
    assert operator["type"] == "index_accessor", scope
    return f"{operator['operands']['operand_1']}[]"


def _assignments() -> set[tuple[str, str, str]]:
    rbac = module("rbac")
    roles = rbac["variables"]["roles"]["value"]
    found = set()
    for config in resources(rbac, "Microsoft.Authorization/roleAssignments").values():
        props = config["properties"]
        role_path = accessor_path(
            props["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        )
        assert role_path[0] == "roles", "role ids come from the one roles table"
        role = role_path[1]
        assert roles[role] == ROLE_IDS[role], f"role id for {role}"
        found.add((props["principalId"], role, _scope(config["scope"])))
    return found


def test_every_identity_to_resource_use_has_a_role_assignment() -> None:
    missing = REQUIRED - _assignments()
    assert not missing, f"missing role assignments: {sorted(missing)}"


def test_apps_get_no_roles_beyond_the_required_ones() -> None:
    extra = {a for a in _assignments() if a[0] != "principalId"} - REQUIRED
    # The admin key secret is read by the api only when the key is configured.
    extra.discard(("apiPrincipalId", "keyVaultSecretsUser", "adminApiKeySecret"))
    assert not extra, f"unexpected role assignments: {sorted(extra)}"


def test_no_app_role_is_scoped_to_the_resource_group_or_subscription() -> None:
    declared = set(module("rbac")["resources"])
    for config in resources(module("rbac"), "Microsoft.Authorization/roleAssignments").values():
        assert "scope" in config, "every assignment names its resource scope"
        assert _scope(config["scope"]).removesuffix("[]") in declared


def test_role_assignment_names_are_deterministic_guids() -> None:
    for config in resources(module("rbac"), "Microsoft.Authorization/roleAssignments").values():
        assert "guid" in config["name"]["function"]["type"]


def test_both_apps_get_redis_data_access() -> None:
    policies = resources(module("rbac"), "Microsoft.Cache/redis/accessPolicyAssignments")
    granted = {
        (p["properties"]["objectId"], p["properties"]["accessPolicyName"])
        for p in policies.values()
    }
    assert ("apiPrincipalId", "Data Contributor") in granted
    assert ("matcherPrincipalId", "Data Contributor") in granted


def _module_params(name: str) -> dict[str, Any]:
    params: dict[str, Any] = parse("main.bicep")["modules"][name]["config"]["params"]
    return params


def test_each_app_runs_as_the_identity_its_roles_were_granted_to() -> None:
    rbac = _module_params("rbac")
    assert accessor_path(rbac["apiPrincipalId"]) == ["apiIdentity", "outputs", "principalId"]
    assert accessor_path(rbac["matcherPrincipalId"]) == [
        "matcherIdentity",
        "outputs",
        "principalId",
    ]
    assert accessor_path(_module_params("api")["identityId"])[0] == "apiIdentity"
    assert accessor_path(_module_params("matcher")["identityId"])[0] == "matcherIdentity"
    assert accessor_path(rbac["gatewayPrincipalId"]) == [
        "gatewayIdentity",
        "outputs",
        "principalId",
    ]
    assert accessor_path(_module_params("gateway")["identityId"])[0] == "gatewayIdentity"
    site = body(module("functionapp")["resources"]["api"])
    assert site["identity"]["type"] == "UserAssigned"


def test_apps_deploy_after_their_roles_exist() -> None:
    main = parse("main.bicep")
    for name in ("api", "matcher", "gateway"):
        assert "rbac" in main["modules"][name]["config"]["dependsOn"], name
