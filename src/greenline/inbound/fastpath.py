"""Meta's webhook POSTs answered ahead of the middleware stack: the intake path with the most traffic.

A Cloud API number reports several statuses per message sent, so a campaign brings thousands of
webhooks per second. Through FastAPI (middleware, routing, dependency injection, a Request object)
each costs about 1 ms of CPU, three times a plain GET; this ASGI wrapper reads the body, and calls
the same `store_cloud_webhook` as the documented route (signature over the raw bytes, durable group
commit, then the answer), with nothing else on the way. Errors have the API's usual JSON shape.
Every other request goes on to the application unchanged.
"""

from __future__ import annotations

import json
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from greenline.core.errors import AppError
from greenline.core.metrics import LATENCY, REQUESTS
from greenline.core.runtime import Runtime
from greenline.inbound.api import EVENT_RECEIVED, MAX_BODY, PayloadTooLarge, store_cloud_webhook

log = structlog.get_logger(__name__)

PATH = "/api/v1/webhooks/whatsapp"
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]


class ClientGone(Exception):
    """The client disconnected before sending the whole body: there is nothing to store or answer."""


class WhatsAppWebhookFastPath:
    """ASGI middleware: `POST /api/v1/webhooks/whatsapp` is handled here, everything else passes through."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self._latency = LATENCY.labels("POST", PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, headers, body = 200, _TEXT, EVENT_RECEIVED.encode()
        try:
            raw = await _read_body(scope, receive)
            await store_cloud_webhook(self.runtime, raw, _header(scope, b"x-hub-signature-256"))
        except ClientGone:
            return
        except AppError as exc:
            status, headers = exc.status, _JSON
            body = json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}).encode()
        except Exception:
            # Not stored: a 5xx makes Meta deliver it again later.
            log.exception("inbound.webhook_not_stored")
            status, headers = 503, _JSON
            body = b'{"error":{"code":"not_stored","message":"the event could not be stored; retry","details":null}}'
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
        REQUESTS.labels("POST", PATH, str(status)).inc()
        self._latency.observe(time.perf_counter() - started)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    declared = _header(scope, b"content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge("webhook payloads are limited to 3 MB")
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge("webhook payloads are limited to 3 MB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
