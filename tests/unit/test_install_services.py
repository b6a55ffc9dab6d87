"""`make test` installs what it needs, and says plainly what it cannot install by itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture
def sandbox() -> Iterator[Path]:
    """A copy of scripts/ with a bin folder holding only the commands the test allows."""
    base = Path(tempfile.mkdtemp(prefix="oms-install-"))
    try:
        shutil.copytree(ROOT / "scripts", base / "scripts")
        (base / "bin").mkdir()
        for name in ("bash", "id", "cat", "dirname", "mkdir", "grep"):
            found = shutil.which(name)
            assert found is not None, name
            (base / "bin" / name).symlink_to(found)
        for path in [base, *base.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755)
        yield base
    finally:
        shutil.rmtree(base)


def _run(sandbox: Path, *prefix: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(sandbox / "bin"), "HOME": str(sandbox)}
    return subprocess.run(
        [*prefix, str(sandbox / "bin" / "bash"), str(sandbox / "scripts" / "install_services.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run the script as another user",
)
def test_without_root_it_says_that_redis_server_needs_root_and_how_to_go_on(
    sandbox: Path,
) -> None:
    setpriv = shutil.which("setpriv")
    assert setpriv is not None
    user = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    result = _run(sandbox, *user)
    assert result.returncode == 2, result.stderr
    assert "needs root" in result.stderr
    assert "apt-get install redis-server" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_without_npm_it_says_that_node_and_npm_are_needed(sandbox: Path) -> None:
    for installed in ("redis-server", "chromium"):
        (sandbox / "bin" / installed).symlink_to(shutil.which("true") or "/bin/true")
    result = _run(sandbox)
    assert result.returncode == 2, result.stderr
    assert "needs Node.js" in result.stderr and "npm" in result.stderr
