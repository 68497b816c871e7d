"""The Baileys gateway channel: a signed HTTP client for `gateway/`, and its event parser.

The contract (routes, signing, event shapes) is docs/gateway-contract.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from greenline.channels.base import (
    ConnectionState,
    IncomingMessage,
    MessageKind,
    NumberSignal,
    OutboundMessage,
    ParsedEvents,
    SendError,
    SendResult,
    StatusUpdate,
)
from greenline.core.db import utcnow

SIGNATURE_HEADER = "X-Greenline-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(secret: str, header: str | None, body: bytes, *, now: float | None = None) -> bool:
    """Constant-time check of `t=<unix>,v1=<hex>` over the raw body, refusing stale timestamps (replays)."""
    if not header:
        return False
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - t) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class SessionNotStarted(SendError):
    """The gateway runs no session for this number (never started, or its state was lost)."""


class BaileysChannel:
    """One linked-device session on the gateway."""

    def __init__(self, base_url: str, secret: str, session_id: str, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.session_id = session_id
        self._client = client

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = {"X-Session-Id": self.session_id, SIGNATURE_HEADER: sign(self.secret, body)}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        client = self._client or httpx.AsyncClient(timeout=30)
        try:
            response = await client.request(method, self.base_url + path, content=body or None, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(2, f"gateway unreachable: {exc}") from exc
        finally:
            if self._client is None:
                await client.aclose()
        data: dict[str, Any] = response.json() if response.content else {}
        if response.status_code >= 400:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            message = str(error.get("message") or response.text[:200])
            if response.status_code == 404 and error.get("code") == "session_not_found":
                raise SessionNotStarted(131000, message)
            code = {401: 0, 403: 368, 409: 131026, 429: 130429}.get(response.status_code, 131000)
            raise SendError(code, message)
        return data

    async def send(self, message: OutboundMessage) -> SendResult:
        payload: dict[str, Any] = {"to": message.to, "clientRef": message.client_ref}
        if message.kind in (MessageKind.text, MessageKind.template):
            payload.update(type="text", text=message.text or "")
        elif message.kind in (MessageKind.image, MessageKind.document, MessageKind.audio, MessageKind.video):
            payload.update(type=message.kind.value, mediaUrl=message.media_url, caption=message.caption)
            if message.filename:
                payload["fileName"] = message.filename
        else:
            raise SendError(131051, f"linked devices cannot send {message.kind} messages")
        data = await self._request("POST", "/messages/send", payload)
        return SendResult(provider_message_id=str(data["messageId"]), accepted_at=utcnow())

    async def check_number(self, phone: str) -> bool | None:
        data = await self._request("GET", f"/contacts/check/{phone}")
        return bool(data.get("exists"))

    async def connection(self) -> ConnectionState:
        """The session's state; a number the gateway does not run yet is started (that shows its QR)."""
        try:
            status = await self._request("GET", "/auth/status")
        except SessionNotStarted:
            await self.start()
            status = await self._request("GET", "/auth/status")
        qr: str | None = None
        if status.get("status") == "qr":
            qr = (await self._request("GET", "/auth/qr")).get("qrDataUrl")
        return ConnectionState(status=str(status.get("status", "connecting")), detail=status.get("me"), qr=qr)

    async def pairing_code(self, phone: str) -> str:
        """An 8-character code to type on the phone (WhatsApp > Linked devices > Link with phone number)."""
        try:
            data = await self._request("POST", "/auth/pairing-code", {"phone": phone})
        except SessionNotStarted:
            await self.start()
            data = await self._request("POST", "/auth/pairing-code", {"phone": phone})
        return str(data["code"])

    async def start(self) -> None:
        await self._request("POST", "/sessions", {"sessionId": self.session_id})

    async def logout(self) -> None:
        await self._request("POST", "/auth/logout", {})


def _at(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return utcnow()


def parse_gateway_event(event: dict[str, Any]) -> ParsedEvents:
    """Normalise one gateway event; the session id stands for the number (SenderNumber.provider_id)."""
    parsed = ParsedEvents()
    session_id = str(event.get("sessionId") or "")
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    assert isinstance(data, dict)
    kind = event.get("type")
    if not session_id:
        return parsed
    if kind == "message" and data.get("messageId") and data.get("from"):
        media = data.get("media") if isinstance(data.get("media"), dict) else None
        parsed.add_message(
            session_id,
            IncomingMessage(
                provider_message_id=str(data["messageId"]),
                sender=str(data["from"]),
                received_at=_at(data.get("timestamp", event.get("timestamp"))),
                kind=str(media.get("type")) if media else "text",
                text=data.get("text") or (media or {}).get("caption"),
                media=media,
                reply_to=data.get("replyTo"),
                profile_name=data.get("pushName"),
            ),
        )
    elif kind == "receipt" and data.get("messageId") and data.get("status"):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        assert isinstance(error, dict)
        parsed.add_status(
            session_id,
            StatusUpdate(
                provider_message_id=str(data["messageId"]),
                status=str(data["status"]),
                occurred_at=_at(data.get("timestamp", event.get("timestamp"))),
                recipient=data.get("to"),
                error_code=int(error["code"]) if str(error.get("code", "")).isdigit() else None,
                error_message=error.get("message"),
            ),
        )
    elif kind in ("connection", "restriction"):
        signal_kind = "connection" if kind == "connection" else str(data.get("kind", "restricted"))
        parsed.add_signal(
            session_id, NumberSignal(kind=signal_kind, occurred_at=_at(event.get("timestamp")), data=data)
        )
    return parsed
