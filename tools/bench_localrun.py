"""The one-command local run in a child process, for the benchmarks that measure it over HTTP.

`LocalRunProcess` starts `python -m localrun` with its data in a temporary folder on a
free loopback port (extra settings as environment variables), waits until it answers, and
stops it again. Benchmarks and their clients then share the machine's cores with it, as a
real client would share nothing: keep the client side light.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

GENEROUS_LIMITS: dict[str, str | int] = {  # a load account's: far past what a bench sends
    "max_order_notional": "100000000",
    "max_open_orders": 1_000_000,
    "max_daily_orders": 10_000_000,
    "rate_per_second": 100_000,
    "burst": 100_000,
    "credit_limit": "100000000000",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank, 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


class LocalRunProcess:
    """`async with LocalRunProcess(settings) as oms:` the local run, reached at `oms.url`."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="oms-bench-")
        self.data_dir = Path(self._tmp.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_key = f"bench-admin-{os.getpid()}"
        self._env = {
            **os.environ,
            "OMS_DATA_DIR": str(self.data_dir),
            "OMS_PORT": str(self.port),
            "OMS_HOST": "127.0.0.1",
            "OMS_DEMO_MARKET": "false",
            "OMS_ADMIN_API_KEY": self.admin_key,
            **(settings or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.AsyncClient(base_url=self.url, timeout=60)

    async def __aenter__(self) -> LocalRunProcess:
        log = (self.data_dir / "localrun.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localrun"], env=self._env, stdout=log, stderr=log
        )
        for _ in range(1200):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local run exited during start-up (see {log.name})")
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get("/api/health")).status_code == 200:
                    return self
            await asyncio.sleep(0.05)
        raise RuntimeError("the local run did not start in 60 s")

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.http.aclose()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._tmp.cleanup()

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        """An admin call; its JSON answer (raises on an error status)."""
        response = await self.http.request(
            method, path, json=body, headers={"X-API-Key": self.admin_key}
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    async def account(self, name: str, limits: dict[str, Any] | None = None) -> str:
        """A new live account with generous limits; its API key."""
        body = {"name": name, "type": "live", "risk_limits": limits or GENEROUS_LIMITS}
        created = await self.admin("POST", "/api/admin/accounts", body)
        return str(created["api_key"])

    def keys(self) -> dict[str, str]:
        """The demo accounts' keys the local run wrote at start."""
        data: dict[str, str] = json.loads((self.data_dir / "local-keys.json").read_text())
        return data
