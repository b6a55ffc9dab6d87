"""Which top-level packages may import which: the deployables stand on `shared/`, never the
other way round, so each one's image or package holds only what it needs to start."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.infra.bicep_model import ROOT

_DOCKER_COPY = re.compile(r"^COPY\s+(\S+)\s+\./(\S+)$", re.MULTILINE)


def _top_level_imports(package: Path) -> dict[str, set[str]]:
    """Top-level package of every absolute import under `package` -> the files importing it."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def _project_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py")}


def test_each_image_holds_every_project_package_its_code_imports() -> None:
    for app in ("matcher", "gateway", "alpaca_stream"):
        copied = {
            src.strip("/")
            for src, _ in _DOCKER_COPY.findall((ROOT / app / "Dockerfile").read_text())
        }
        assert {"shared", app} <= copied
        for package in ("shared", app):
            imported = _top_level_imports(ROOT / package).keys() & _project_packages()
            missing = imported - copied
            assert not missing, f"{package}/ imports {missing}, which the {app} image lacks"


def test_shared_imports_no_deployable_and_no_tool() -> None:
    imports = _top_level_imports(ROOT / "shared")
    for outside in (
        "functions",
        "matcher",
        "gateway",
        "alpaca_stream",
        "localrun",
        "tools",
        "tests",
    ):
        assert outside not in imports, f"shared/ imports {outside}: {imports.get(outside)}"


def test_the_product_imports_no_tool_and_not_the_local_run() -> None:
    for package in ("functions", "matcher", "gateway", "alpaca_stream", "shared"):
        imports = _top_level_imports(ROOT / package)
        for outside in ("localrun", "tools", "tests"):
            assert outside not in imports, f"{package}/ imports {outside}: {imports[outside]}"


def test_the_bus_triggers_need_no_http_route_module() -> None:
    tree = ast.parse((ROOT / "functions" / "triggers.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in modules if m.startswith("functions.http")}
