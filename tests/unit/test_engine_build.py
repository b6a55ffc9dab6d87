"""Every module of the matching engine is compiled with mypyc: one left out runs interpreted
in the middle of the compiled ones and quietly costs the engine its speed."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import _compiled_modules

ROOT = Path(__file__).resolve().parents[2]


def test_setup_compiles_every_engine_module() -> None:
    compiled = set(_compiled_modules(ROOT))
    engine = {
        f"matcher.engine.{p.stem}"
        for p in (ROOT / "matcher" / "engine").glob("*.py")
        if p.stem != "__init__"
    }
    assert engine - compiled == set()
