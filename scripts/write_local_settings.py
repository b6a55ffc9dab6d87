"""azd postprovision hook: write local.settings.json from the azd environment.

Starts from local.settings.json.example (the embedded local values) and fills in the
endpoints `azd provision` just created, so `func start` or the local run can talk to the
deployed resources with your own `az login` identity. Only names listed in
FROM_AZD_ENVIRONMENT are taken from the environment (azd exports its environment values to
hooks); anything else in your shell, such as AZURE_CLIENT_ID, is ignored on purpose.

MONGODB_URI is the one secret: it is read from Key Vault with the Azure CLI when it is
installed and you may read the secret (the deploying user may, see infra/modules/rbac.bicep);
otherwise it stays empty and the local run uses SQLite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Setting name in local.settings.json -> azd environment value (a main.bicep output).
FROM_AZD_ENVIRONMENT: dict[str, str] = {
    "MONGODB_DATABASE": "MONGODB_DATABASE",
    "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE": "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE",
    "ServiceBusConnection__fullyQualifiedNamespace": "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE",
    "ORDERS_QUEUE": "ORDERS_QUEUE",
    "EXECUTIONS_QUEUE": "EXECUTIONS_QUEUE",
    "ORDER_REQUESTS_QUEUE": "ORDER_REQUESTS_QUEUE",
    "VENUES_QUEUE": "VENUES_QUEUE",
    "REDIS_URL": "REDIS_URL",
    "REDIS_USE_ENTRA_ID": "REDIS_USE_ENTRA_ID",
    "SIGNALR_ENDPOINT": "SIGNALR_ENDPOINT",
    "SIGNALR_HUB": "SIGNALR_HUB",
    "SNAPSHOTS_BLOB_SERVICE_URL": "SNAPSHOTS_BLOB_SERVICE_URL",
    "SNAPSHOTS_CONTAINER": "SNAPSHOTS_CONTAINER",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "APPLICATIONINSIGHTS_CONNECTION_STRING",
}

# In Azure these are identity-based; a local connection string would shadow the endpoint.
CLEARED_WHEN_DEPLOYED = ("SNAPSHOTS_CONNECTION_STRING",)

SecretReader = Callable[[str, str], str | None]


def build_values(
    example: Mapping[str, str], env: Mapping[str, str], read_secret: SecretReader
) -> dict[str, str]:
    """Return the Values of local.settings.json for the deployed environment."""
    values = dict(example)
    for setting, env_name in FROM_AZD_ENVIRONMENT.items():
        value = env.get(env_name, "")
        if setting in values and value:
            values[setting] = value.lower() if value in ("True", "False") else value
    if env.get("SNAPSHOTS_BLOB_SERVICE_URL"):
        for name in CLEARED_WHEN_DEPLOYED:
            values[name] = ""
    vault, secret = env.get("AZURE_KEY_VAULT_NAME", ""), env.get("MONGODB_URI_SECRET_NAME", "")
    if vault and secret:
        uri = read_secret(vault, secret)
        if uri:
            values["MONGODB_URI"] = uri
    return values


def read_secret_with_az(vault: str, secret: str) -> str | None:
    """Read a Key Vault secret with the Azure CLI; None when that is not possible."""
    az = shutil.which("az")
    if az is None:
        print("az CLI not found: MONGODB_URI left empty (local SQLite).", file=sys.stderr)
        return None
    result = subprocess.run(
        [
            az,
            "keyvault",
            "secret",
            "show",
            "--vault-name",
            vault,
            "--name",
            secret,
            "--query",
            "value",
            "--output",
            "tsv",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"Could not read {secret} from {vault}: MONGODB_URI left empty.", file=sys.stderr)
        return None
    return result.stdout.strip() or None


def main() -> int:
    example = json.loads((ROOT / "local.settings.json.example").read_text())
    values = build_values(example["Values"], os.environ, read_secret_with_az)
    target = ROOT / "local.settings.json"
    document = {"IsEncrypted": False, "Values": values}
    target.write_text(json.dumps(document, indent=2) + "\n")
    target.chmod(0o600)  # may hold the MongoDB connection string
    env_name = os.environ.get("AZURE_ENV_NAME", "?")
    print(f"Wrote {target.relative_to(ROOT)} for azd environment {env_name}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
