"""`message.status` tenant webhooks: emitted when the inbound pipeline moves an outbound message forward."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.models import InboundEvent, Message, WebhookDelivery
from greenline.webhooks.signing import verify_signature
from tests.factories import Factory
from tests.inbound.helpers import (
    PHONE_NUMBER_ID,
    cloud_number,
    envelope,
    eventually,
    outbound_message,
    post_signed,
    status,
)
from tests.webhooks.helpers import Receiver, create_endpoint

CONTACT = "+16505551234"


def _deliveries(runtime: Runtime, tenant_id: int | None = None) -> list[WebhookDelivery]:
    """`message.status` deliveries of one tenant, or of every tenant when None (oldest first)."""
    with runtime.db.session() as session, unscoped(session):
        stmt = select(WebhookDelivery).where(WebhookDelivery.event_type == "message.status")
        if tenant_id is not None:
            stmt = stmt.where(WebhookDelivery.tenant_id == tenant_id)
        return list(session.scalars(stmt.order_by(WebhookDelivery.id)))


def _processed(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return session.scalar(select(func.count()).where(InboundEvent.processed_at.is_not(None))) or 0


def _message_status(runtime: Runtime, tenant_id: int | None, message_id: int) -> str | None:
    with runtime.db.session(tenant_id) as session:
        message = session.get(Message, message_id)
        return None if message is None else str(message.status)


def _post_and_wait(client: TestClient, runtime: Runtime, payload: dict[str, Any]) -> None:
    """POST one signed payload and wait until the pipeline has applied it."""
    before = _processed(runtime)
    assert post_signed(client, payload).status_code == 200
    eventually(lambda: _processed(runtime) > before)


def test_status_change_reaches_a_subscribed_endpoint_signed(
    wa: tuple[TestClient, Factory], wa_runtime: Runtime
) -> None:
    client, factory = wa
    admin = factory.tenant()
    number = cloud_number(client, admin)
    message_id = outbound_message(wa_runtime, admin.tenant_id or 0, CONTACT, "wamid.hook.1")
    with Receiver() as receiver:
        endpoint = create_endpoint(client, admin, receiver.url("/status"), ["message.status"])
        post_signed(client, status("wamid.hook.1", "delivered", "16505551234", ts=1750030100))
        [request] = receiver.wait_for(1)
        post_signed(client, status("wamid.hook.1", "read", "16505551234", ts=1750030200))
        requests = receiver.wait_for(2)

    assert verify_signature(endpoint["secret"], request.headers["X-Greenline-Signature"], request.body)
    assert request.headers["X-Greenline-Event"] == "message.status"
    body = json.loads(request.body)
    assert body["type"] == "message.status"
    assert body["tenant_id"] == admin.tenant_id
    assert body["created_at"] == "2025-06-15T23:28:20+00:00"
    with wa_runtime.db.session(admin.tenant_id) as session:
        message = session.get(Message, message_id)
        assert message is not None
        contact_id, conversation_id = message.contact_id, message.conversation_id
    assert body["data"] == {
        "message_id": message_id,
        "provider_message_id": "wamid.hook.1",
        "contact_id": contact_id,
        "conversation_id": conversation_id,
        "campaign_id": None,
        "sender_number_id": number["id"],
        "status": "delivered",
        "timestamp": "2025-06-15T23:28:20+00:00",
        "error": None,
    }
    read = json.loads(requests[1].body)
    assert read["data"]["status"] == "read"
    assert read["id"] != body["id"]
    assert _message_status(wa_runtime, admin.tenant_id, message_id) == "read"


def test_failure_carries_error_code_and_reason(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    create_endpoint(client, admin, "http://127.0.0.1:9/hook", ["*"])
    outbound_message(wa_runtime, admin.tenant_id or 0, CONTACT, "wamid.fail.1")
    _post_and_wait(client, wa_runtime, status("wamid.fail.1", "failed", "16505551234", code=131049))
    [delivery] = _deliveries(wa_runtime, admin.tenant_id)
    data = delivery.payload["data"]
    assert data["status"] == "failed"
    assert data["error"] == {"code": 131049, "reason": "m — d"}


def test_duplicates_and_stale_reports_emit_nothing(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    create_endpoint(client, admin, "http://127.0.0.1:9/hook", ["message.status"])
    outbound_message(wa_runtime, admin.tenant_id or 0, CONTACT, "wamid.dup.1")
    _post_and_wait(client, wa_runtime, status("wamid.dup.1", "read", "16505551234"))
    # Redelivered read, a late delivered and a failure after the read change nothing: no event.
    _post_and_wait(client, wa_runtime, status("wamid.dup.1", "read", "16505551234", ts=1750030999))
    _post_and_wait(client, wa_runtime, status("wamid.dup.1", "delivered", "16505551234"))
    _post_and_wait(client, wa_runtime, status("wamid.dup.1", "failed", "16505551234", code=131026))
    assert [d.payload["data"]["status"] for d in _deliveries(wa_runtime, admin.tenant_id)] == ["read"]


def test_one_batch_emits_one_event_per_transition(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    first = create_endpoint(client, admin, "http://127.0.0.1:9/a", ["message.status"])
    second = create_endpoint(client, admin, "http://127.0.0.1:9/b", ["*"])
    ids = [outbound_message(wa_runtime, admin.tenant_id or 0, CONTACT, f"wamid.batch.{i}") for i in range(3)]
    reports = [("wamid.batch.0", "delivered"), ("wamid.batch.0", "read"), ("wamid.batch.1", "delivered"),
               ("wamid.batch.1", "delivered"), ("wamid.batch.2", "failed"), ("wamid.unknown", "read")]  # fmt: skip
    items = [
        {"id": wamid, "status": state, "timestamp": "1750030073", "recipient_id": "16505551234"}
        for wamid, state in reports
    ]
    _post_and_wait(client, wa_runtime, envelope({"statuses": items}))

    deliveries = _deliveries(wa_runtime, admin.tenant_id)
    events = {(d.payload["data"]["message_id"], d.payload["data"]["status"]) for d in deliveries}
    assert events == {(ids[0], "delivered"), (ids[0], "read"), (ids[1], "delivered"), (ids[2], "failed")}
    # Each event once per endpoint, with the same event id for both copies.
    assert sorted(d.endpoint_id for d in deliveries) == sorted([first["id"], second["id"]] * 4)
    by_event: dict[str, set[int]] = {}
    for d in deliveries:
        by_event.setdefault(d.event_id, set()).add(d.endpoint_id)
    assert list(by_event.values()) == [{first["id"], second["id"]}] * 4


def test_tenants_without_a_subscribed_endpoint_get_none(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    other_events = factory.tenant()
    no_endpoint = factory.tenant()
    disabled = factory.tenant()
    cloud_number(client, other_events, "111111111111")
    cloud_number(client, no_endpoint, "222222222222")
    cloud_number(client, disabled, "333333333333")
    create_endpoint(client, other_events, "http://127.0.0.1:9/hook", ["message.received", "contact.opted_out"])
    create_endpoint(client, disabled, "http://127.0.0.1:9/hook", ["message.status"], is_active=False)
    for actor, number_id in ((other_events, "111111111111"), (no_endpoint, "222222222222"), (disabled, "333333333333")):
        message_id = outbound_message(wa_runtime, actor.tenant_id or 0, CONTACT, f"wamid.quiet.{number_id}")
        _post_and_wait(client, wa_runtime, status(f"wamid.quiet.{number_id}", "delivered", "1", number_id=number_id))
        assert _message_status(wa_runtime, actor.tenant_id, message_id) == "delivered"
    assert _deliveries(wa_runtime) == []


def test_another_tenants_endpoint_never_gets_the_event(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, factory = wa
    a, b = factory.tenant(), factory.tenant()
    cloud_number(client, a, PHONE_NUMBER_ID)
    cloud_number(client, b, "222222222222")
    create_endpoint(client, a, "http://127.0.0.1:9/a", ["message.status"])
    b_endpoint = create_endpoint(client, b, "http://127.0.0.1:9/b", ["*"])
    a_message = outbound_message(wa_runtime, a.tenant_id or 0, CONTACT, "wamid.mine")
    _post_and_wait(client, wa_runtime, status("wamid.mine", "delivered", "16505551234"))
    # B's number reporting A's message id touches neither tenant's messages nor A's endpoint.
    _post_and_wait(client, wa_runtime, status("wamid.mine", "read", "16505551234", number_id="222222222222"))

    assert _message_status(wa_runtime, a.tenant_id, a_message) == "delivered"
    everything = _deliveries(wa_runtime)
    assert [(d.tenant_id, d.payload["data"]["message_id"]) for d in everything] == [(a.tenant_id, a_message)]
    assert all(d.endpoint_id != b_endpoint["id"] for d in everything)
    assert _deliveries(wa_runtime, b.tenant_id) == []
