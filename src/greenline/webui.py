"""Serve the built dashboard (web/dist) from the API process, so the embedded default needs no other server.

Browsers navigating to `/` or to a client-side route (`/contacts/42`) get `index.html`; everything else is
untouched: `GET /` without `Accept: text/html` still answers the root info JSON (cheap, used as a benchmark
baseline), and `/api/...`, `/docs`, `/openapi.json`, `/metrics` keep their own answers. Without a build
(`make run` builds it) nothing is mounted and the API works as before.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
# The app shell must be re-read after a rebuild; the hashed files under /assets may be cached forever.
INDEX_HEADERS = {"Cache-Control": "no-cache"}


def _wants_html(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept":
            return b"text/html" in value
    return False


class SpaFallback:
    """Answer a browser's page request with index.html where the API has no route for it."""

    def __init__(self, app: ASGIApp, index: Path) -> None:
        self.app = app
        self.index = index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or scope["path"].startswith("/api/")
            or not _wants_html(scope)
        ):
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/":
            await FileResponse(self.index, headers=INDEX_HEADERS)(scope, receive, send)
            return
        not_found = False

        async def send_unless_404(message: Message) -> None:
            nonlocal not_found
            if message["type"] == "http.response.start" and message["status"] == 404:
                not_found = True
            if not not_found:
                await send(message)

        await self.app(scope, receive, send_unless_404)
        if not_found:
            await FileResponse(self.index, headers=INDEX_HEADERS)(scope, receive, send)


def install_webui(app: FastAPI, dist: Path | None = None) -> bool:
    """Mount the build (default web/dist) if there is one; returns whether it was mounted."""
    dist = dist or WEB_DIST
    index = dist / "index.html"
    if not index.is_file():
        return False
    app.mount("/assets", StaticFiles(directory=dist / "assets", check_dir=False), name="webui-assets")
    app.add_middleware(SpaFallback, index=index)
    return True
