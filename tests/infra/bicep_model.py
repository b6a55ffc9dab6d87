"""Read the Bicep under infra/ as data (pycep-parser's JSON tree) for the infra tests."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MODULES = INFRA / "modules"


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@functools.cache
def parse(name: str) -> dict[str, Any]:
    """Parse infra/<name> (e.g. "main.bicep" or "modules/servicebus.bicep")."""
    tree: Any = BicepParser().parse(file_path=INFRA / name)
    return dict(tree)


def module(name: str) -> dict[str, Any]:
    return parse(f"modules/{name}.bicep")


def resources(tree: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    """Symbol -> resource config (loops and conditions unwrapped) for one resource type."""
    found = {}
    for symbol, res in tree.get("resources", {}).items():
        if res["type"].lower() == type_.lower():
            found[symbol] = body(res)
    return found


def resource(tree: dict[str, Any], symbol: str) -> dict[str, Any]:
    return body(tree["resources"][symbol])


def body(res: dict[str, Any]) -> dict[str, Any]:
    """A resource's own properties, below any `if (...)` or `for` wrapper."""
    config: dict[str, Any] = res["config"]
    while "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config


def symbol(value: Any) -> str | None:
    """The name a plain reference (`foo`) or property access (`foo.bar`) starts with."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "operator" in value:
        op = value["operator"]
        if op["type"] == "property_accessor":
            return symbol(op["operands"]["operand_1"])
    return None


def accessor_path(value: Any) -> list[str]:
    """`a.b.c` as ["a", "b", "c"]; a plain name as [name]."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and value.get("operator", {}).get("type") == "property_accessor":
        ops = value["operator"]["operands"]
        return accessor_path(ops["operand_1"]) + accessor_path(ops["operand_2"])
    return []


def walk(value: Any) -> Any:
    """Every nested value (dicts, lists, scalars) of a parsed tree."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def functions_used(value: Any) -> set[str]:
    """Names of the Bicep functions called anywhere inside value (pycep's snake_case names)."""
    used = set()
    for node in walk(value):
        if isinstance(node, dict) and isinstance(node.get("function"), dict):
            used.add(str(node["function"].get("type")))
    return used


def secret_reads(value: Any) -> set[str]:
    """Calls that return keys or connection strings: `x.listKeys()`, `listKeys(...)`, ..."""
    found = set()
    for node in walk(value):
        if not isinstance(node, dict):
            continue
        op = node.get("operator")
        if isinstance(op, dict) and op.get("type") == "function_accessor":
            name = str(op["operands"].get("func_name", ""))
            if name.lower().startswith("list"):
                found.add(name)
        fn = node.get("function")
        if isinstance(fn, dict) and str(fn.get("type", "")).startswith("list"):
            found.add(str(fn["type"]))
    return found


def load_hook() -> Any:
    """scripts/write_local_settings.py as a module (scripts/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "write_local_settings", ROOT / "scripts" / "write_local_settings.py"
    )
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook
