"""Pure ASGI middleware: request id, structured access log, metrics and usage counting."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenline.core.metrics import LATENCY, REQUESTS

log = structlog.get_logger("greenline.request")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Tags every request with an id (echoed as X-Request-ID) and records metrics and usage."""

    def __init__(self, app: ASGIApp, on_tenant_request: Callable[[int], None] | None = None) -> None:
        self.app = app
        self.on_tenant_request = on_tenant_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            state: dict[str, Any] = scope.get("state") or {}
            tenant_id = state.get("tenant_id")
            if tenant_id is not None and self.on_tenant_request is not None:
                self.on_tenant_request(tenant_id)
            if status >= 500:
                log.error("request.failed", method=method, route=route, status=status, ms=round(elapsed * 1000, 1))
            structlog.contextvars.clear_contextvars()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's template with the mount prefix, e.g. /api/v1/tenants/{tenant_id}.

    FastAPI reports the route as declared on its router (without the include prefix),
    so the prefix is taken from the request path: it has the same number of segments.
    """
    route = scope.get("route")
    template: str | None = getattr(route, "path", None)
    if not template:
        return "unmatched"
    actual = scope["path"].split("/")
    extra = len(actual) - len(template.split("/"))
    if extra <= 0:
        return template
    return "/".join(actual[: extra + 1]) + template


class RejectNulMiddleware:
    """Refuse NUL characters in JSON bodies and query strings with a 422 on every engine.

    PostgreSQL cannot store them in text and SQLite would silently keep them; either way
    they are never meaningful input. File uploads (multipart) pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await _reject(send, "query")
            return
        content_type = _header(scope, b"content-type") or ""
        if "json" not in content_type:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\\u0000" in body:
            await _reject(send, "body")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}]), send)


def _replay(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _reject(send: Send, where: str) -> None:
    payload = {
        "error": {
            "code": "validation_error",
            "message": f"{where}: NUL characters are not allowed",
            "details": [{"field": where, "problem": "NUL characters are not allowed"}],
        }
    }
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
