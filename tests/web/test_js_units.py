"""The page's pure logic under Node's own test runner (web/test): gap detection on the live
feeds, exact decimal display, and the admin feed's live audit entries and re-syncs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.web.support import ROOT


def test_page_logic_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    run = subprocess.run(
        [node, "--test", "test/"], cwd=ROOT / "web", capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
