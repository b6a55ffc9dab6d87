"""`python -m localrun` as a user starts it: its own process, working directory and
environment, on a free loopback port; stdout and stderr (the logs) kept in files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LocalRunProcess:
    cwd: Path
    port: int
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def keys(self) -> dict[str, str]:
        """The keys the local run keeps in .oms-data/local-keys.json."""
        keys: dict[str, str] = json.loads((self.cwd / ".oms-data" / "local-keys.json").read_text())
        return keys

    def log_lines(self) -> list[str]:
        return self.stderr.read_text().splitlines()


@contextmanager
def local_run_process(
    cwd: Path, env: Mapping[str, str] | None = None, start_timeout: float = 60.0
) -> Iterator[LocalRunProcess]:
    """Start the local run in `cwd` (its data goes to `cwd/.oms-data`), wait until it
    answers, and stop it with Ctrl-C (SIGINT) at the end."""
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "OTEL_"))},
        "PYTHONPATH": str(ROOT),
        "OMS_PORT": str(port),
        **(env or {}),
    }
    stdout, stderr = cwd / "localrun.out", cwd / "localrun.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "localrun"],
            cwd=cwd,
            env=environment,
            stdout=out,
            stderr=err,
        )
    run = LocalRunProcess(cwd, port, process, stdout, stderr)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the local run exited: {stderr.read_text()}")
            try:
                answered = httpx.get(f"{run.url}/api/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                answered = False
            if answered and "OMS is running" in stdout.read_text():
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the local run did not start: {stderr.read_text()}")
            time.sleep(0.2)
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
