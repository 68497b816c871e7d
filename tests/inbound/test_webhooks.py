"""Meta webhooks end to end: signature, durable intake, and the one pipeline that applies them."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.models import InboundEvent, Message, UnmatchedStatus
from tests.factories import Actor, Factory
from tests.inbound.helpers import (
    APP_SECRET,
    VERIFY_TOKEN,
    cloud_number,
    eventually,
    outbound_message,
    post_signed,
    status,
    text_message,
)


def _conversations(client: TestClient, admin: Actor) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/api/v1/conversations/", headers=admin.headers).json()["items"]
    return items


def test_verification_handshake(wa: tuple[TestClient, Factory]) -> None:
    client, _ = wa
    ok = client.get(
        "/api/v1/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    bad = client.get(
        "/api/v1/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "wrong"},
    )
    assert bad.status_code == 403


def test_bad_or_missing_signature_is_refused_and_stored_nowhere(
    wa: tuple[TestClient, Factory], wa_runtime: Runtime
) -> None:
    client, _ = wa
    raw = json.dumps(text_message("16505551234", "hi")).encode()
    missing = client.post("/api/v1/webhooks/whatsapp", content=raw, headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    forged = post_signed(client, text_message("16505551234", "hi"), secret="not-the-app-secret")
    assert forged.status_code == 403
    tampered = client.post(
        "/api/v1/webhooks/whatsapp",
        content=raw.replace(b"hi", b"yo"),
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert tampered.status_code == 403
    with wa_runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0


def test_incoming_message_creates_contact_and_conversation(wa: tuple[TestClient, Factory]) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    response = post_signed(client, text_message("16505551234", "Do you ship to Texas?", name="Pablo M."))
    assert response.status_code == 200
    assert response.text == "EVENT_RECEIVED"
    conversation = eventually(lambda: _conversations(client, admin))[0]
    assert conversation["unread_count"] == 1
    contact = client.get(f"/api/v1/contacts/{conversation['contact_id']}", headers=admin.headers).json()
    assert contact["phone"] == "+16505551234"
    assert contact["name"] == "Pablo M."
    messages = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=admin.headers).json()["items"]
    assert [m["body"] for m in messages] == ["Do you ship to Texas?"]


def test_redelivered_webhook_is_applied_once(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    payload = text_message("16505551234", "Hello", wamid="wamid.same")
    for _ in range(3):
        assert post_signed(client, payload).status_code == 200
    eventually(lambda: _conversations(client, admin))
    with wa_runtime.db.session(admin.tenant_id) as session:
        eventually(
            lambda: (
                session.scalar(
                    select(func.count()).select_from(InboundEvent).where(InboundEvent.processed_at.is_not(None))
                )
                == 1
            )
        )
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def _message(runtime: Runtime, tenant_id: int | None, message_id: int) -> Message:
    with runtime.db.session(tenant_id) as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def test_statuses_are_monotonic_and_late_delivered_never_overwrites_read(
    wa: tuple[TestClient, Factory], wa_runtime: Runtime
) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    message_id = outbound_message(wa_runtime, admin.tenant_id or 0, "+16505551234", "wamid.out.1")
    post_signed(client, status("wamid.out.1", "read", "16505551234", ts=1750030100))
    eventually(lambda: _message(wa_runtime, admin.tenant_id, message_id).status == "read")
    post_signed(client, status("wamid.out.1", "delivered", "16505551234", ts=1750030090))
    post_signed(client, status("wamid.out.1", "failed", "16505551234", ts=1750030095, code=131026))
    post_signed(client, status("wamid.out.1", "read", "16505551234", ts=1750030200))
    eventually(lambda: _message(wa_runtime, admin.tenant_id, message_id).delivered_at is not None)
    message = _message(wa_runtime, admin.tenant_id, message_id)
    assert message.status == "read"
    assert int(message.read_at.timestamp()) == 1750030100  # type: ignore[union-attr]
    assert int(message.delivered_at.timestamp()) == 1750030090  # type: ignore[union-attr]
    assert message.error_code is None


def test_failure_records_code_and_reason(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    message_id = outbound_message(wa_runtime, admin.tenant_id or 0, "+16505551234", "wamid.out.2")
    post_signed(client, status("wamid.out.2", "failed", "16505551234", code=131049))
    message = eventually(lambda: (m := _message(wa_runtime, admin.tenant_id, message_id)).status == "failed" and m)
    assert message.error_code == "131049"
    assert message.failed_at is not None


def test_unknown_message_ids_are_kept_for_reconciliation(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    post_signed(client, status("wamid.early", "delivered", "16505551234"))

    def unmatched() -> int:
        with wa_runtime.db.session(admin.tenant_id) as session:
            return session.scalar(select(func.count()).select_from(UnmatchedStatus)) or 0

    eventually(unmatched)
    from greenline.inbound.statuses import reconcile_unmatched

    message_id = outbound_message(wa_runtime, admin.tenant_id or 0, "+16505551234", "wamid.early")
    with wa_runtime.task_session(admin.tenant_id) as session:
        assert reconcile_unmatched(session, admin.tenant_id or 0, ["wamid.early"]) == 1
    assert _message(wa_runtime, admin.tenant_id, message_id).status == "delivered"


def test_stop_keyword_opts_out_and_queues_one_confirmation(wa: tuple[TestClient, Factory]) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    post_signed(client, text_message("16505551234", "Hola"))
    eventually(lambda: _conversations(client, admin))
    post_signed(client, text_message("16505551234", "  Stop! "))
    entry = eventually(
        lambda: (
            (r := client.get("/api/v1/unsubscribers/+16505551234", headers=admin.headers)).status_code == 200
            and r.json()
        )
    )
    assert entry["source"] == "keyword"
    post_signed(client, text_message("16505551234", "STOP"))  # a second STOP confirms nothing new
    conversation = _conversations(client, admin)[0]

    def outbound() -> list[dict[str, Any]]:
        items = client.get(f"/api/v1/conversations/{conversation['id']}/messages", headers=admin.headers).json()
        return [m for m in items["items"] if m["direction"] == "outbound"]

    confirmations = eventually(outbound)
    assert len(confirmations) == 1
    assert "unsubscribed" in confirmations[0]["body"]


def test_user_preferences_stop_opts_out(wa: tuple[TestClient, Factory]) -> None:
    from tests.inbound.helpers import envelope

    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    payload = envelope(
        {
            "contacts": [{"wa_id": "16505551234"}],
            "user_preferences": [{"wa_id": "16505551234", "detail": "User requested to stop marketing messages",
                                  "category": "marketing_messages", "value": "stop", "timestamp": 1731705721}],
        },
        field="user_preferences",
    )  # fmt: skip
    assert post_signed(client, payload).status_code == 200
    eventually(lambda: client.get("/api/v1/unsubscribers/+16505551234", headers=admin.headers).status_code == 200)


def test_events_for_another_tenants_number_never_touch_this_tenant(
    wa: tuple[TestClient, Factory], wa_runtime: Runtime
) -> None:
    client, factory = wa
    a = factory.tenant()
    b = factory.tenant()
    cloud_number(client, a, "111111111111")
    cloud_number(client, b, "222222222222")
    a_message = outbound_message(wa_runtime, a.tenant_id or 0, "+16505551234", "wamid.a")
    # B's number reports a status for A's message id and a message: only B is affected.
    post_signed(client, status("wamid.a", "read", "16505551234", number_id="222222222222"))
    post_signed(client, text_message("16505551234", "hi B", number_id="222222222222"))
    eventually(lambda: _conversations(client, b))
    assert _conversations(client, a) == []
    assert _message(wa_runtime, a.tenant_id, a_message).status == "sent"
    with wa_runtime.db.session() as session, unscoped(session):
        stray = session.scalars(select(UnmatchedStatus)).all()
    assert [(s.tenant_id, s.provider_message_id) for s in stray] == [(b.tenant_id, "wamid.a")]


def test_non_whatsapp_object_and_garbage_are_4xx(wa: tuple[TestClient, Factory]) -> None:
    client, _ = wa
    assert post_signed(client, {"object": "page", "entry": []}).status_code == 400
    raw = b"not json"
    from greenline.channels.signatures import sign_meta

    response = client.post(
        "/api/v1/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": sign_meta(APP_SECRET, raw)}
    )
    assert response.status_code == 400


def test_incoming_message_and_stop_reach_tenant_webhooks(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    from greenline.models import WebhookDelivery

    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    created = client.post(
        "/api/v1/webhooks/",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["message.received", "contact.opted_out"]},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    post_signed(client, text_message("16505551234", "STOP"))

    def types() -> list[str]:
        with wa_runtime.db.session(admin.tenant_id) as session:
            return sorted(session.scalars(select(WebhookDelivery.event_type)))

    assert eventually(lambda: len(types()) == 2 and types()) == ["contact.opted_out", "message.received"]


def test_a_batch_of_many_statuses_is_applied(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    from tests.inbound.helpers import envelope

    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    ids = [outbound_message(wa_runtime, admin.tenant_id or 0, "+16505551234", f"wamid.many.{i}") for i in range(5)]
    items = [
        {"id": f"wamid.many.{i}", "status": state, "timestamp": "1750030073", "recipient_id": "16505551234"}
        for i in range(5)
        for state in ("delivered", "read")
    ]
    assert post_signed(client, envelope({"statuses": items})).status_code == 200
    eventually(lambda: all(_message(wa_runtime, admin.tenant_id, i).status == "read" for i in ids))


def test_a_poison_event_is_parked_and_does_not_block_others(wa_runtime: Runtime) -> None:
    from greenline.inbound import service
    from greenline.models import ChannelType

    with wa_runtime.db.session() as session:
        session.add(InboundEvent(channel=ChannelType.cloud, payload={"object": "whatsapp_business_account"}))
        session.commit()
    calls = {"n": 0}
    original = service._apply

    def failing(*args: Any) -> None:
        calls["n"] += 1
        raise RuntimeError("boom")

    service._apply = failing  # type: ignore[assignment]
    try:
        for _ in range(service.MAX_ATTEMPTS + 1):
            service.process_pending(wa_runtime)
    finally:
        service._apply = original  # type: ignore[assignment]
    with wa_runtime.db.session() as session:
        event = session.scalars(select(InboundEvent)).one()
    assert event.attempts == service.MAX_ATTEMPTS
    assert event.error is not None
    assert "boom" in event.error
