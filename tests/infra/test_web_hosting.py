"""The web page is served by the Function App at the site root, built before packaging and
shipped in the package (host.json, azure.yaml, .funcignore, main.bicep)."""

from __future__ import annotations

import json
from typing import Any

import pathspec
import yaml  # type: ignore[import-untyped]

from tests.infra.bicep_model import ROOT, parse


def test_the_function_apps_catch_all_route_starts_at_the_site_root() -> None:
    # With no route prefix the one HTTP function (route "/{*route}", see
    # tests/unit/test_function_bindings.py; FastAPI's routes carry /api themselves) gets `/`,
    # `/assets/...` and `/api/...`: the page and the API share one origin.
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""


def test_azd_builds_the_page_before_packaging_the_api() -> None:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "azure.yaml").read_text())
    hook = doc["services"]["api"]["hooks"]["prepackage"]
    assert hook["posix"]["run"] == "bash scripts/build_web.sh --required"
    assert "web/build.mjs" in hook["windows"]["run"]
    assert (ROOT / "scripts/build_web.sh").is_file() and (ROOT / "web/build.mjs").is_file()


def test_the_package_keeps_the_built_page_and_drops_its_sources_and_tools() -> None:
    # pathspec (mypy's dependency) reads gitignore syntax as azd does.
    ignored = pathspec.GitIgnoreSpec.from_lines((ROOT / ".funcignore").read_text().splitlines())
    shipped = [
        "function_app.py",
        "host.json",
        "requirements.txt",
        "functions/http/web.py",
        "shared/bootstrap.py",
        "web/dist/index.html",
        "web/dist/manifest.json",
        "web/dist/assets/app-ABC123.js",
    ]
    left_out = [
        "web/node_modules/esbuild/package.json",
        "web/src/main.js",
        "web/test/sequence.test.mjs",
        ".tools/azurite/node_modules/x.js",
        ".venv/bin/python",
        ".oms-data/oms.db",
        "tests/web/test_trading_page.py",
        "local.settings.json",
    ]
    assert [path for path in shipped if ignored.match_file(path)] == []
    assert [path for path in left_out if not ignored.match_file(path)] == []


def test_the_page_url_is_an_azd_output() -> None:
    outputs = parse("main.bicep")["outputs"]
    assert "OMS_WEB_URL" in outputs
    assert "api.outputs.uri" in json.dumps(outputs["OMS_WEB_URL"])
