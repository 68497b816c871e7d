"""Signed Cloud API webhook payloads, built from the documented shapes, and a polling helper."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient

from greenline.channels.signatures import sign_meta
from greenline.core.runtime import Runtime
from greenline.models import Message
from tests.factories import Actor

APP_SECRET = "test-app-secret-123456"
VERIFY_TOKEN = "verify-me-please"
PHONE_NUMBER_ID = "106540352242922"
_seq = itertools.count(1)
T = TypeVar("T")


def envelope(value: dict[str, Any], field: str = "messages", number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": field}]}],
    }


def text_message(sender_digits: str, body: str, *, name: str = "Pablo M.", number_id: str = PHONE_NUMBER_ID,
                 wamid: str | None = None, ts: int = 1750030073) -> dict[str, Any]:  # fmt: skip
    return envelope(
        {
            "contacts": [{"profile": {"name": name}, "wa_id": sender_digits}],
            "messages": [
                {
                    "from": sender_digits,
                    "id": wamid or f"wamid.in.{next(_seq)}",
                    "timestamp": str(ts),
                    "type": "text",
                    "text": {"body": body},
                }
            ],
        },
        number_id=number_id,
    )


def status(wamid: str, state: str, recipient: str, *, ts: int = 1750030073, code: int | None = None,
           number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:  # fmt: skip
    item: dict[str, Any] = {"id": wamid, "status": state, "timestamp": str(ts), "recipient_id": recipient}
    if code is not None:
        item["errors"] = [{"code": code, "title": "t", "message": "m", "error_data": {"details": "d"}}]
    return envelope({"statuses": [item]}, number_id=number_id)


def post_signed(client: TestClient, payload: dict[str, Any], secret: str = APP_SECRET) -> Any:
    raw = json.dumps(payload).encode()
    return client.post(
        "/api/v1/webhooks/whatsapp",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign_meta(secret, raw)},
    )


def cloud_number(client: TestClient, admin: Actor, number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    """Register a Cloud API number for `admin`'s tenant; its sends go to a closed local port."""
    response = client.post(
        "/api/v1/whatsapp/numbers",
        json={
            "name": "Main",
            "display_number": "+1 415 555 2671",
            "channel": "cloud",
            "cloud": {
                "phone_number_id": number_id,
                "access_token": "EAAG-test-token-123",
                "base_url": "http://127.0.0.1:9",
            },
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def outbound_message(runtime: Runtime, tenant_id: int, contact_phone: str, wamid: str) -> int:
    """An outbound message the provider accepted (as the dispatcher leaves it)."""
    from greenline.inbound.incoming import ensure_contact
    from greenline.models.enums import Direction, MessageStatus

    with runtime.task_session(tenant_id) as session:
        contact = ensure_contact(session, contact_phone, None)
        message = Message(contact_id=contact.id, direction=Direction.outbound, body="Offer!", status=MessageStatus.sent,
                          provider_message_id=wamid)  # fmt: skip
        session.add(message)
        session.flush()
        return message.id


def eventually(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll until `probe` returns something truthy (the pipeline processes asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)
