"""The FIX exchange simulator as a child process (`python -m tools.fix_exchange`) for tests:
start it on free loopback ports, drive it over its control channel, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


class FixExchange:
    """A running simulator: `fix_port` for the initiator, control helpers for the test."""

    def __init__(self, data_dir: Path, sender: str = "EXCH", target: str = "OMS") -> None:
        self.data_dir = data_dir
        self.sender = sender
        self.target = target
        self.process: subprocess.Popen[bytes] | None = None
        self.fix_port = 0
        self.control_port = 0
        self.client: httpx.AsyncClient | None = None

    async def start(self, port: int = 0, *extra: str) -> FixExchange:
        command = [
            sys.executable,
            "-m",
            "tools.fix_exchange",
            "--data-dir",
            str(self.data_dir),
            "--sender-comp-id",
            self.sender,
            "--target-comp-id",
            self.target,
            "--port",
            str(port),
            *extra,
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), 30)
        ready = json.loads(line)
        if "error" in ready:
            raise RuntimeError(ready["error"])
        self.fix_port, self.control_port = ready["fix_port"], ready["control_port"]
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.control_port}")
        return self

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), 15)
            except TimeoutError:
                process.kill()
                await asyncio.to_thread(process.wait)
        self.process = None

    def kill(self) -> None:
        """kill -9 (the store on disk stays, as after a crash)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
            self.process = None

    async def post(self, path: str, **body: Any) -> Any:
        assert self.client is not None
        response = await self.client.post(path, json=body)
        response.raise_for_status()
        return response.json()

    async def state(self) -> dict[str, Any]:
        assert self.client is not None
        response = await self.client.get("/state")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    async def order(self, cl_ord_id: str) -> dict[str, Any]:
        for order in (await self.state())["orders"]:
            if order["cl_ord_id"] == cl_ord_id:
                return dict(order)
        raise KeyError(cl_ord_id)


async def eventually(check: Callable[[], object], timeout: float = 20) -> None:
    """Wait until `check()` is true (polling); fail with a clear message after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout} s: {check}")
        await asyncio.sleep(0.05)
