"""Every Bicep file parses, and main.bicep wires one module per resource file."""

from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter_bicep
from tree_sitter import Language, Parser

from tests.infra.bicep_model import INFRA, MODULES, bicep_files, parse

BICEP = Parser(Language(tree_sitter_bicep.language()))


def _error_lines(node, lines):
    if node.type == "ERROR" or node.is_missing:
        lines.append(node.start_point[0] + 1)
    for child in node.children:
        _error_lines(child, lines)
    return lines


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_bicep_file_has_no_syntax_errors(path: Path) -> None:
    tree = BICEP.parse(path.read_bytes())
    assert not tree.root_node.has_error, (
        f"syntax errors at lines {_error_lines(tree.root_node, [])}"
    )


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_bicep_file_parses_into_a_resource_tree(path: Path) -> None:
    tree = parse(str(path.relative_to(INFRA)))
    assert tree.get("resources") or tree.get("modules")


def test_tree_sitter_check_catches_a_broken_file() -> None:
    broken = (
        (MODULES / "servicebus.bicep").read_bytes().replace(b"properties: {", b"properties {", 1)
    )
    assert BICEP.parse(broken).root_node.has_error


def test_main_is_subscription_scoped_with_one_resource_group_and_azd_tags() -> None:
    main = parse("main.bicep")
    assert main["globals"]["scope"]["value"] == "subscription"
    groups = [
        r for r in main["resources"].values() if r["type"] == "Microsoft.Resources/resourceGroups"
    ]
    assert len(groups) == 1
    tags = {k.strip("'"): v for k, v in main["variables"]["tags"]["value"].items()}
    assert tags == {"azd-env-name": "environmentName"}
    assert "abbreviations.json" in str(main["variables"]["abbrs"]["value"])


def test_every_module_file_is_used_by_main_and_every_reference_exists() -> None:
    main = parse("main.bicep")
    referenced = {Path(m["detail"]["path"]).name for m in main["modules"].values()}
    on_disk = {p.name for p in MODULES.glob("*.bicep")}
    assert referenced == on_disk
    for mod in main["modules"].values():
        assert mod["config"]["scope"] == "rg", "every module deploys into the one resource group"


def test_services_carry_the_azd_service_name_tag() -> None:
    api = (MODULES / "functionapp.bicep").read_text()
    matcher = (MODULES / "matcher.bicep").read_text()
    assert "'azd-service-name': 'api'" in api
    assert "'azd-service-name': 'matcher'" in matcher
