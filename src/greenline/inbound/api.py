"""Provider webhooks: Meta's Cloud API and the Baileys gateway. Public, but every POST is signed.

Each handler verifies the signature over the raw body, stores the event durably and answers at
once; processing happens afterwards (see service.py). A payload with a bad or missing signature is
refused and stored nowhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from greenline.channels import baileys
from greenline.channels.registry import credentials
from greenline.channels.signatures import verify_meta_signature, verify_subscription
from greenline.core.db import unscoped
from greenline.core.deps import RuntimeDep
from greenline.core.errors import AppError, Forbidden, Unauthorized, responses
from greenline.core.runtime import Runtime
from greenline.inbound.service import event_store
from greenline.models import ChannelType, SenderNumber

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

MAX_BODY = 3 * 1024 * 1024  # Meta's documented maximum payload
EVENT_RECEIVED = "EVENT_RECEIVED"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


async def _raw_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge("webhook payloads are limited to 3 MB")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PayloadTooLarge("webhook payloads are limited to 3 MB")
    return body


def _text(raw: bytes, payload: dict[str, Any]) -> str:
    """The JSON text to store: the body itself, unless it is not UTF-8 (JSON may be UTF-16 or -32)."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return json.dumps(payload)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise AppError("body is not JSON", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise AppError("body must be a JSON object", code="invalid_json")
    return payload


@router.get("/whatsapp", response_class=PlainTextResponse, responses=responses(403))
def verify_whatsapp_webhook(request: Request, runtime: RuntimeDep) -> PlainTextResponse:
    """Meta's verification handshake: echo hub.challenge when hub.verify_token matches. Public."""
    # Without a configured token nothing can match: the handshake is refused like a wrong token.
    challenge = verify_subscription(dict(request.query_params), runtime.settings.whatsapp_verify_token or "")
    if challenge is None:
        raise Forbidden("verification token mismatch", code="verification_failed")
    return PlainTextResponse(challenge)


def _number_secrets(runtime: Runtime, payload: dict[str, Any]) -> list[str]:
    """App secrets stored on the Cloud API numbers this payload is about (tenants with their own Meta app)."""
    ids = {
        str(change.get("value", {}).get("metadata", {}).get("phone_number_id"))
        for entry in payload.get("entry", []) if isinstance(entry, dict)
        for change in entry.get("changes", []) if isinstance(change, dict) and isinstance(change.get("value"), dict)
    }  # fmt: skip
    if not ids:
        return []
    with runtime.db.session() as session, unscoped(session):
        senders = session.query(SenderNumber).filter(
            SenderNumber.channel == ChannelType.cloud, SenderNumber.provider_id.in_(ids)
        )
        return [str(secret) for s in senders if (secret := credentials(runtime, s).get("app_secret"))]


async def store_cloud_webhook(runtime: Runtime, raw: bytes, signature: str | None) -> None:
    """Verify a Cloud API notification's signature over the raw bytes and store it; raises AppError.

    The app-wide secret is tried first; only when it does not match are the secrets of the numbers
    named in the payload looked up (tenants with their own Meta app). The event is stored as the
    JSON text Meta sent and parsed by the processor.
    """
    if not signature:
        raise Unauthorized("missing X-Hub-Signature-256", code="signature_missing")
    payload = _json(raw)
    secret = runtime.settings.whatsapp_app_secret
    if not (secret and verify_meta_signature(str(secret), raw, signature)):
        secrets = await run_in_threadpool(_number_secrets, runtime, payload)
        if not any(verify_meta_signature(s, raw, signature) for s in secrets):
            raise Forbidden("invalid X-Hub-Signature-256", code="signature_invalid")
    if payload.get("object") != "whatsapp_business_account":
        raise AppError("not a WhatsApp Business Account notification", code="unsupported_object")
    await event_store(runtime).ingest(ChannelType.cloud, _text(raw, payload), hashlib.sha256(raw).hexdigest())


@router.post("/whatsapp", response_class=PlainTextResponse, responses=responses(400, 401, 403, 413))
async def receive_whatsapp_webhook(request: Request, runtime: RuntimeDep) -> PlainTextResponse:
    """Meta's event notifications (messages, statuses, preferences), signed with X-Hub-Signature-256. Public."""
    # Served by fastpath.py ahead of the middleware stack; this route documents it and shares its code.
    await store_cloud_webhook(runtime, await _raw_body(request), request.headers.get("x-hub-signature-256"))
    return PlainTextResponse(EVENT_RECEIVED)


@router.post("/baileys", responses=responses(400, 401, 413))
async def receive_gateway_event(request: Request, runtime: RuntimeDep) -> dict[str, str]:
    """Events from the Baileys gateway, signed with the shared secret (docs/gateway-contract.md). Public."""
    secret = runtime.settings.gateway_secret
    raw = await _raw_body(request)
    # Without a configured secret no signature can be valid.
    if not secret or not baileys.verify(secret, request.headers.get(baileys.SIGNATURE_HEADER), raw):
        raise Unauthorized("invalid or stale X-Greenline-Signature", code="signature_invalid")
    payload = _json(raw)
    event_id = str(payload.get("id") or "")[:128]
    if not event_id or not payload.get("sessionId"):
        raise AppError("event needs an id and a sessionId", code="invalid_event")
    await event_store(runtime).ingest(ChannelType.baileys, _text(raw, payload), event_id)
    return {"status": "stored"}
