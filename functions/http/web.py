"""The trading page at `/` and the API docs at `/api/docs`, served from the built assets.

`web/` holds the page's sources; `scripts/build_web.sh` (run by `make run`, `make test` and
azd's prepackage hook) bundles them with esbuild into `web/dist/`: `index.html`, hashed
files under `assets/` (cached for good), Swagger UI under a versioned folder, and
`manifest.json` naming them. Nothing comes from a CDN, so the page and the docs work offline.

The page talks to the same API and SignalR feeds as any client. Its Content-Security-Policy
lets it load and connect to this origin only, plus the SignalR Service when one is configured
(the negotiate redirects the client there).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from functions.http.deps import ContainerDep

WEB_DIST: Final = Path(__file__).resolve().parents[2] / "web" / "dist"

router = APIRouter(include_in_schema=False)

NOT_BUILT = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>OMS</title></head>"
    "<body><h1>The web page is not built</h1><p>{what} needs its assets: run "
    "<code>make web</code> (Node 20 and npm) and reload. The API answers under "
    "<code>/api</code> meanwhile.</p></body></html>"
)

_SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _manifest() -> dict[str, str] | None:
    try:
        manifest: dict[str, str] = orjson.loads((WEB_DIST / "manifest.json").read_bytes())
    except FileNotFoundError:
        return None
    return manifest


def _not_built(what: str) -> HTMLResponse:
    return HTMLResponse(NOT_BUILT.format(what=html.escape(what)), 503, headers=_SECURITY_HEADERS)


def content_security_policy(signalr_endpoint: str | None) -> str:
    """This origin only, plus the SignalR Service (HTTPS negotiate and its WebSocket)."""
    connect = ["'self'"]
    if signalr_endpoint:
        parts = urlsplit(signalr_endpoint)
        if parts.scheme in ("http", "https") and parts.netloc:
            ws = "wss" if parts.scheme == "https" else "ws"
            connect += [f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"]
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


@router.get("/")
async def page(container: ContainerDep) -> Response:
    try:
        body = (WEB_DIST / "index.html").read_bytes()
    except FileNotFoundError:
        return _not_built("The trading page")
    csp = content_security_policy(container.settings.SIGNALR_ENDPOINT)
    headers = {**_SECURITY_HEADERS, "Content-Security-Policy": csp}
    return HTMLResponse(body, headers=headers)


@router.get("/favicon.ico")
async def favicon() -> Response:
    manifest = _manifest()
    if manifest is None:
        return Response(status_code=204)
    icon = (WEB_DIST / manifest["favicon"].lstrip("/")).read_bytes()
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(icon, media_type="image/svg+xml", headers=headers)


@router.get("/api/docs")
async def api_docs(request: Request) -> Response:
    manifest = _manifest()
    if manifest is None:
        return _not_built("The API docs (Swagger UI)")
    openapi_url = request.app.openapi_url or "/api/openapi.json"
    parameters: dict[str, Any] = {"validatorUrl": None}  # no call to swagger.io's validator
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{request.app.title} API",
        swagger_js_url=manifest["swagger_js"],
        swagger_css_url=manifest["swagger_css"],
        swagger_favicon_url=manifest["favicon"],
        swagger_ui_parameters=parameters,
    )


class Assets(StaticFiles):
    """The built files: names carry a content hash (or a version), so they never change."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    async def check_config(self) -> None:
        # Not built (yet): answer 404s rather than fail; files are looked up per request,
        # so they are served as soon as `make web` has run.
        if (WEB_DIST / "assets").is_dir():
            await super().check_config()


def install(app: FastAPI) -> None:
    """Serve the page, its assets and the API docs."""
    app.include_router(router)
    app.mount("/assets", Assets(directory=WEB_DIST / "assets", check_dir=False), name="assets")
