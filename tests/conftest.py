"""Test-session guards shared by every suite."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest


def _compiled_modules(root: Path) -> list[str]:
    """The modules setup.py compiles (its COMPILED_MODULES), as dotted names."""
    tree = ast.parse((root / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COMPILED_MODULES" for t in node.targets
        ):
            paths = ast.literal_eval(node.value)
            return [path.removesuffix(".py").replace("/", ".") for path in paths]
    raise RuntimeError("setup.py lists no COMPILED_MODULES")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a stale mypyc build: a .so older than its .py would shadow edits.

    mypyc puts the code of all modules in one shared library beside setup.py and leaves a
    small shim .so per module, so the build time is the newest of the two."""
    root = Path(__file__).resolve().parent.parent
    shared_libs = [p.stat().st_mtime for p in root.glob("*__mypyc*.so")]
    for name in _compiled_modules(root):
        module = importlib.import_module(name)
        built = Path(str(module.__file__))
        if built.suffix != ".so":
            continue
        source = built.parent / (name.rsplit(".", 1)[1] + ".py")
        built_at = max([built.stat().st_mtime, *shared_libs])
        if source.stat().st_mtime > built_at:
            pytest.exit(f"{built.name} is older than {source}: run `make build`", returncode=3)
