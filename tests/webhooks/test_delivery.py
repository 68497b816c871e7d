"""Emit → queued delivery → signed POST to a real local receiver, retries with backoff, the attempt log."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.core.db import unscoped, utcnow
from greenline.models import WebhookAttempt, WebhookDelivery
from greenline.webhooks import sender, service
from greenline.webhooks.delivery import MAX_ATTEMPTS, RETRY_DELAYS_SECONDS, deliver_due
from greenline.webhooks.signing import verify_signature
from tests.factories import Factory
from tests.webhooks.helpers import Receiver, RecordingRunner, create_endpoint, drain, logs, quiet_session


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_emitted_event_arrives_signed_and_is_logged(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    with Receiver() as receiver:
        endpoint = create_endpoint(client, admin, receiver.url("/in"), ["contact.created"])
        # The real path: emit inside a unit of work, the job runs after the commit.
        with factory.runtime.task_session(admin.tenant_id) as session:
            assert service.emit(session, "contact.created", {"contact_id": 7, "at": utcnow()}) == 1
        [request] = receiver.wait_for(1)
        drain(factory.runtime)

    header = request.headers["X-Greenline-Signature"]
    assert verify_signature(endpoint["secret"], header, request.body)
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert abs(time.time() - timestamp) < 60
    # A captured request replayed later, or altered, is refused.
    assert not verify_signature(endpoint["secret"], header, request.body, now=timestamp + 301)
    assert not verify_signature(endpoint["secret"], header, request.body + b" ")
    assert not verify_signature("whsec_other", header, request.body)

    assert request.path == "/in"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Greenline-Webhooks/1"
    assert request.headers["X-Greenline-Event"] == "contact.created"
    payload = json.loads(request.body)
    assert payload["type"] == "contact.created"
    assert payload["tenant_id"] == admin.tenant_id
    assert payload["data"]["contact_id"] == 7
    assert len(payload["id"]) == 32
    _at(payload["created_at"])

    [logged] = logs(client, admin)
    assert request.headers["X-Greenline-Delivery"] == str(logged["id"])
    assert logged["status"] == "delivered"
    assert logged["attempts"] == 1
    assert logged["event_id"] == payload["id"]
    assert logged["delivered_at"] is not None
    [attempt] = logged["attempt_history"]
    assert attempt["status_code"] == 200
    assert attempt["error"] is None
    assert attempt["response_excerpt"] == "ok"
    assert attempt["duration_ms"] >= 0


def test_test_event_reaches_the_endpoint(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    with Receiver() as receiver:
        endpoint = create_endpoint(client, admin, receiver.url(), ["lead.status_changed"])
        queued = client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=admin.headers)
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] == "pending"
        [request] = receiver.wait_for(1)
        drain(factory.runtime)
    assert request.headers["X-Greenline-Event"] == "webhook.test"
    assert verify_signature(endpoint["secret"], request.headers["X-Greenline-Signature"], request.body)
    assert logs(client, admin)[0]["status"] == "delivered"


def test_failure_is_retried_with_backoff_then_delivered(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    with Receiver() as receiver:
        receiver.statuses = [500]
        create_endpoint(client, admin, receiver.url(), ["*"])
        with factory.runtime.task_session(admin.tenant_id) as session:
            service.emit(session, "message.received", {"text": "hi"})
        receiver.wait_for(1)
        drain(factory.runtime)

        [pending] = logs(client, admin)
        assert pending["status"] == "pending"
        assert pending["attempts"] == 1
        assert pending["last_status_code"] == 500
        assert pending["last_error"] == "HTTP 500"
        [failed] = pending["attempt_history"]
        assert failed["status_code"] == 500
        assert failed["response_excerpt"].startswith("receiver says no")
        assert len(failed["response_excerpt"]) == 500
        wait = _at(pending["next_attempt_at"]) - _at(failed["attempted_at"])
        assert dt.timedelta(seconds=8) <= wait <= dt.timedelta(seconds=12)

        # Not due yet: nothing is sent.
        too_early = _at(failed["attempted_at"]) + dt.timedelta(seconds=7)
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id, now=too_early) == 0
        later = _at(pending["next_attempt_at"]) + dt.timedelta(seconds=1)
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id, now=later) == 1
        assert len(receiver.requests) == 2

    [done] = logs(client, admin)
    assert done["status"] == "delivered"
    assert done["attempts"] == 2
    assert [a["status_code"] for a in done["attempt_history"]] == [500, 200]
    assert done["next_attempt_at"] is None


def test_gives_up_after_the_last_backoff_step(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    runner = RecordingRunner()
    with Receiver() as receiver:
        receiver.default_status = 503
        create_endpoint(client, admin, receiver.url(), ["*"])
        with quiet_session(factory.runtime, admin.tenant_id, runner) as session:
            service.emit(session, "campaign.started", {"campaign_id": 1})
        now = utcnow()
        waits = []
        for _ in range(MAX_ATTEMPTS):
            assert deliver_due(factory.runtime, tenant_id=admin.tenant_id, now=now) == 1
            [row] = logs(client, admin)
            if row["next_attempt_at"] is None:
                break
            waits.append((_at(row["next_attempt_at"]) - now).total_seconds())
            now = _at(row["next_attempt_at"])
        assert len(receiver.requests) == MAX_ATTEMPTS
    assert runner.jobs == [("webhooks.deliver", {"tenant_id": admin.tenant_id})]
    assert [round(w / base, 1) for w, base in zip(waits, RETRY_DELAYS_SECONDS, strict=True)] == pytest.approx(
        [1.0] * len(RETRY_DELAYS_SECONDS), abs=0.21
    )
    assert sum(waits) > 2.5 * 86400
    [row] = logs(client, admin, status="failed")
    assert row["attempts"] == MAX_ATTEMPTS
    assert len(row["attempt_history"]) == MAX_ATTEMPTS
    assert deliver_due(factory.runtime, tenant_id=admin.tenant_id, now=now + dt.timedelta(days=30)) == 0


def test_unreachable_and_slow_receivers_are_recorded(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    monkeypatch.setattr(sender, "TIMEOUT_SECONDS", 0.3)
    with Receiver() as receiver:
        receiver.delay_seconds = 1.0
        create_endpoint(client, admin, "http://127.0.0.1:9/closed", ["*"])
        create_endpoint(client, admin, receiver.url(), ["*"])
        with quiet_session(factory.runtime, admin.tenant_id) as session:
            assert service.emit(session, "import.completed", {"import_id": 3}) == 2
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id) == 2
    errors = sorted(row["attempt_history"][0]["error"] for row in logs(client, admin))
    assert errors[0].startswith("ConnectError")
    assert errors[1] == "timed out after 0.3 s"
    assert all(row["status"] == "pending" and row["last_status_code"] is None for row in logs(client, admin))


def test_only_active_subscribed_endpoints_receive(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    runner = RecordingRunner()
    with Receiver() as receiver:
        create_endpoint(client, admin, receiver.url("/contacts"), ["contact.created"])
        create_endpoint(client, admin, receiver.url("/all"), ["*"])
        create_endpoint(client, admin, receiver.url("/messages"), ["message.received", "message.status"])
        create_endpoint(client, admin, receiver.url("/off"), ["*"], is_active=False)
        with quiet_session(factory.runtime, admin.tenant_id, runner) as session:
            assert service.emit(session, "contact.created", {"contact_id": 1}) == 2
            assert service.emit(session, "contact.opted_out", {"phone": "+14155550100"}) == 1
        # One delivery job per tenant and transaction, however many events were emitted.
        assert runner.jobs == [("webhooks.deliver", {"tenant_id": admin.tenant_id})]
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id) == 3
    received = sorted((r.path, r.headers["X-Greenline-Event"]) for r in receiver.requests)
    assert received == [("/all", "contact.created"), ("/all", "contact.opted_out"), ("/contacts", "contact.created")]


def test_rolled_back_work_emits_nothing(factory: Factory, client: TestClient) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    create_endpoint(client, admin, "http://127.0.0.1:9/x", ["*"])
    runner = RecordingRunner()

    def failing_unit_of_work() -> None:
        assert admin.tenant_id is not None
        with quiet_session(factory.runtime, admin.tenant_id, runner) as session:
            service.emit(session, "contact.created", {"contact_id": 1})
            raise RuntimeError("the surrounding change failed")

    with pytest.raises(RuntimeError, match="surrounding"):
        failing_unit_of_work()
    assert runner.jobs == []
    assert logs(client, admin) == []


def test_emit_refuses_unknown_types_and_unbound_sessions(factory: Factory) -> None:
    with factory.runtime.db.session(1) as session, pytest.raises(ValueError, match="unknown"):
        service.emit(session, "contact.deleted", {})
    with factory.runtime.db.session() as session, pytest.raises(ValueError, match="tenant"):
        service.emit(session, "contact.created", {})


def test_disabled_endpoint_stops_its_pending_deliveries(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    with Receiver() as receiver:
        endpoint = create_endpoint(client, admin, receiver.url(), ["*"])
        with quiet_session(factory.runtime, admin.tenant_id) as session:
            service.emit(session, "campaign.paused", {"campaign_id": 2})
        off = client.put(f"/api/v1/webhooks/{endpoint['id']}", json={"is_active": False}, headers=admin.headers)
        assert off.status_code == 200
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id) == 0
    assert receiver.requests == []
    [row] = logs(client, admin)
    assert (row["status"], row["last_error"], row["attempt_history"]) == ("failed", "the endpoint is disabled", [])


def test_retry_sweep_serves_every_tenant(client: TestClient, factory: Factory) -> None:
    tenants = [factory.tenant(), factory.tenant()]
    with Receiver() as receiver:
        for actor in tenants:
            assert actor.tenant_id is not None
            create_endpoint(client, actor, receiver.url(f"/t{actor.tenant_id}"), ["*"])
            with quiet_session(factory.runtime, actor.tenant_id) as session:
                service.emit(session, "number.status_changed", {"status": "connected"})
        assert deliver_due(factory.runtime) == 2
    assert sorted(r.path for r in receiver.requests) == sorted(f"/t{a.tenant_id}" for a in tenants)
    with factory.runtime.db.session() as session, session.begin(), unscoped(session):
        pairs = session.execute(
            select(WebhookAttempt.tenant_id, WebhookDelivery.tenant_id).join(
                WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id
            )
        ).all()
    assert len(pairs) == 2
    assert all(attempt_tenant == delivery_tenant for attempt_tenant, delivery_tenant in pairs)
