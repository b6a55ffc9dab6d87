"""The README's "Try it" block, run as a reader would (bash, curl, python3) against a fresh
`python -m localrun`, twice: every call answers as the README says, both times."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.process import ROOT, LocalRunProcess, local_run_process

# Records each call's HTTP status in $STATUSES and prints the body, as curl -s would.
CURL_RECORDING = r"""
curl() {
  local out
  out=$(command curl -w $'\n__status__%{http_code}' "$@")
  printf '%s\n' "${out%$'\n'__status__*}"
  echo "${out##*__status__}" >> "$STATUSES"
}
"""


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Try it") :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, "no sh block under ## Try it"
    return match.group(1)


def run_block(run: LocalRunProcess, block: str, statuses: Path) -> list[int]:
    statuses.write_text("")
    result = subprocess.run(
        ["bash", "-eu", "-o", "pipefail", "-c", CURL_RECORDING + block],
        cwd=run.cwd,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "OMS_PORT": str(run.port),
             "STATUSES": str(statuses)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    return [int(line) for line in statuses.read_text().split()]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README block uses curl")
def test_the_try_it_block_runs_twice_and_leaves_msft_trading(tmp_path: Path) -> None:
    block = try_it_block()
    calls = len(re.findall(r"\bcurl -s", block))
    with local_run_process(tmp_path) as run:
        for _ in range(2):
            statuses = run_block(run, block, tmp_path / "statuses")
            assert len(statuses) == calls
            # Only the example of a bad request is refused (off the tick grid: 422).
            assert sorted(s for s in statuses if s >= 300) == [422], statuses
        admin = {"X-API-Key": run.keys()["admin"]}
        import httpx

        instruments = httpx.get(f"{run.url}/api/instruments", headers=admin).json()["items"]
        msft = next(i for i in instruments if i["symbol"] == "MSFT")
        assert msft["trading_state"] == "active"
