"""azure.yaml, host.json, the matcher Dockerfile and the postprovision hook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from tests.infra.bicep_model import ROOT, load_hook


def _azure_yaml() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "azure.yaml").read_text())
    return doc


def test_azure_yaml_services_point_at_existing_folders_with_the_right_hosts() -> None:
    services = _azure_yaml()["services"]
    assert set(services) == {"api", "matcher", "gateway", "alpaca-stream"}
    api = services["api"]
    assert (api["host"], api["language"]) == ("function", "python")
    # The Function App project holds the Functions entry points.
    assert (ROOT / api["project"] / "host.json").is_file()
    assert (ROOT / api["project"] / "requirements.txt").is_file()
    for name, folder in (
        ("matcher", "matcher"),
        ("gateway", "gateway"),
        ("alpaca-stream", "alpaca_stream"),
    ):
        app = services[name]
        assert app["host"] == "containerapp"
        # docker.path and docker.context are relative to the service's project folder.
        project = ROOT / app["project"]
        dockerfile = project / app["docker"]["path"]
        context = project / app["docker"]["context"]
        assert dockerfile.resolve() == (ROOT / folder / "Dockerfile").resolve()
        assert context.resolve() == ROOT, "context is the repo root so shared/ is in the image"
        assert (context / "shared").is_dir() and (context / folder).is_dir()


def test_service_names_match_the_azd_service_name_tags() -> None:
    for name in _azure_yaml()["services"]:
        tagged = [
            p.name
            for p in (ROOT / "infra" / "modules").glob("*.bicep")
            if f"'azd-service-name': '{name}'" in p.read_text()
        ]
        assert len(tagged) == 1, name


def test_postprovision_hook_runs_the_local_settings_writer() -> None:
    hook = _azure_yaml()["hooks"]["postprovision"]
    for platform in ("posix", "windows"):
        run = hook[platform]["run"]
        script = run.split()[-1]
        assert (ROOT / script).is_file(), run


def test_host_json_service_bus_settings() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["functionTimeout"]
    assert host["extensionBundle"]["version"].startswith("[4.")
    sb = host["extensions"]["serviceBus"]
    # The Python functions do not settle messages themselves: the host completes on success
    # and abandons on an exception, so a failing message is redelivered, then dead-lettered.
    assert sb["autoCompleteMessages"] is True
    assert sb["maxConcurrentSessions"] >= 1
    assert sb["maxAutoLockRenewalDuration"]
    retry = sb["clientRetryOptions"]
    assert retry["mode"] == "Exponential" and retry["maxRetries"] >= 1
    assert "logLevel" in host["logging"]


def test_matcher_dockerfile_builds_a_non_root_image_running_python_m_matcher() -> None:
    text = (ROOT / "matcher" / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert "gcc" in text
    assert "if [ -f setup.py ]; then python setup.py build_ext --inplace; fi" in text
    assert "EXPOSE 8080" in lines
    user = [ln for ln in lines if ln.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert lines[-1] == 'CMD ["python", "-m", "matcher"]'


def test_gateway_dockerfile_builds_a_non_root_image_running_python_m_gateway() -> None:
    text = (ROOT / "gateway" / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert "COPY requirements.txt requirements-gateway.txt ./" in lines
    assert "RUN pip install -r requirements-gateway.txt" in lines
    gateway_requirements = (ROOT / "requirements-gateway.txt").read_text().splitlines()
    assert gateway_requirements[:4].count("-r requirements.txt") == 1
    assert "COPY gateway ./gateway" in lines and "COPY shared ./shared" in lines
    user = [ln for ln in lines if ln.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert lines[-1] == 'CMD ["python", "-m", "gateway"]'


def test_stream_dockerfile_builds_a_non_root_image_running_python_m_alpaca_stream() -> None:
    text = (ROOT / "alpaca_stream" / "Dockerfile").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert "EXPOSE 8080" in lines
    user = [ln for ln in lines if ln.startswith("USER ")]
    assert user and user[-1] not in ("USER root", "USER 0")
    assert lines[-1] == 'CMD ["python", "-m", "alpaca_stream"]'


def test_dockerignore_keeps_local_secrets_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in ("local.settings.json", ".venv", ".git", ".azure"):
        assert entry in ignored


def test_hook_fills_endpoints_from_azd_and_ignores_the_rest_of_the_shell(tmp_path: Path) -> None:
    example = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    env = {
        "SERVICEBUS_FULLY_QUALIFIED_NAMESPACE": "sb-x.servicebus.windows.net",
        "SNAPSHOTS_BLOB_SERVICE_URL": "https://stx.blob.core.windows.net/",
        "REDIS_USE_ENTRA_ID": "True",
        "AZURE_CLIENT_ID": "not-for-local-use",
        "AZURE_KEY_VAULT_NAME": "kv-x",
        "MONGODB_URI_SECRET_NAME": "mongodb-uri",
    }
    values = load_hook().build_values(example, env, lambda vault, name: f"mongodb://{vault}/{name}")
    assert values["ServiceBusConnection__fullyQualifiedNamespace"] == "sb-x.servicebus.windows.net"
    assert values["SERVICEBUS_FULLY_QUALIFIED_NAMESPACE"] == "sb-x.servicebus.windows.net"
    assert values["SNAPSHOTS_CONNECTION_STRING"] == ""
    assert values["REDIS_USE_ENTRA_ID"] == "true"
    assert values["AZURE_CLIENT_ID"] == "", "local runs use the developer's own identity"
    assert values["MONGODB_URI"] == "mongodb://kv-x/mongodb-uri"
    assert set(values) == set(example)
