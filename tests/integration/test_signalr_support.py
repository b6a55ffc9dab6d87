"""The stack the SignalR integration tests share (no tests here).

The local hub mounted at /signalr of a FastAPI app on a loopback port, a stand-in
`POST /api/negotiate` (user id from the X-Test-User header; the real route authenticates the
X-API-Key and uses the account id) that returns the redirect shape from the notifier, and the
REST notifier pointed at the hub over HTTP.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI, Header, HTTPException

from shared.adapters.signalr_rest import AccessKeyAuth, SignalRRestNotifier
from shared.signalr_hub import LocalHub, mount_hub
from shared.signalr_hub.serve import serving

ACCESS_KEY = "integration-test-access-key-0123456789abcdefABCDEF"
HUB = "oms"


@dataclass
class SignalRStack:
    base_url: str
    hub: LocalHub
    notifier: SignalRRestNotifier

    @property
    def negotiate_base(self) -> str:
        """What a client passes to withUrl: it POSTs {this}/negotiate."""
        return f"{self.base_url}/api"

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/signalr"


@contextlib.asynccontextmanager
async def signalr_stack(ping_interval: float = 15.0) -> AsyncIterator[SignalRStack]:
    hub = LocalHub(ACCESS_KEY, ping_interval=ping_interval)
    app = FastAPI()
    holder: dict[str, SignalRRestNotifier] = {}

    @app.post("/api/negotiate")
    async def negotiate(x_test_user: str | None = Header(default=None)) -> dict[str, str]:
        if not x_test_user:
            raise HTTPException(status_code=401, detail="who are you?")
        access = await holder["notifier"].client_access(x_test_user)
        return access.negotiate_response()

    mount_hub(app, hub, "/signalr")
    async with serving(app) as base_url:
        notifier = SignalRRestNotifier(f"{base_url}/signalr", HUB, AccessKeyAuth(ACCESS_KEY))
        holder["notifier"] = notifier
        try:
            yield SignalRStack(base_url, hub, notifier)
        finally:
            hub.close_all()
            await notifier.aclose()
