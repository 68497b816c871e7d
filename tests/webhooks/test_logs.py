"""The delivery log, resend, and the claim that keeps two workers off the same attempt."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.core.db import unscoped, utcnow
from greenline.models import WebhookAttempt, WebhookDelivery
from greenline.webhooks import service
from greenline.webhooks.delivery import LEASE, claim, deliver_due, record
from greenline.webhooks.sender import Outcome
from tests.factories import Actor, Factory
from tests.webhooks.helpers import Receiver, RecordingRunner, create_endpoint, drain, logs, quiet_session


def _queue(factory: Factory, actor: Actor, event_type: str = "contact.created", times: int = 1) -> None:
    assert actor.tenant_id is not None
    with quiet_session(factory.runtime, actor.tenant_id) as session:
        for i in range(times):
            service.emit(session, event_type, {"n": i})


def test_logs_filter_and_paginate(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    with Receiver() as receiver:
        receiver.statuses = [500]
        first = create_endpoint(client, admin, receiver.url("/a"), ["contact.created"])
        second = create_endpoint(client, admin, receiver.url("/b"), ["lead.status_changed"])
        _queue(factory, admin, "contact.created", times=2)
        _queue(factory, admin, "lead.status_changed")
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id) == 3

    everything = logs(client, admin)
    assert [d["id"] for d in everything] == sorted((d["id"] for d in everything), reverse=True)
    assert {d["endpoint_id"] for d in logs(client, admin, endpoint_id=first["id"])} == {first["id"]}
    assert [d["endpoint_id"] for d in logs(client, admin, event_type="lead.status_changed")] == [second["id"]]
    assert len(logs(client, admin, status="delivered")) == 2
    [pending] = logs(client, admin, status="pending")
    assert pending["attempt_history"][0]["status_code"] == 500

    page = client.get("/api/v1/webhooks/logs", params={"limit": 2}, headers=admin.headers).json()
    rest = client.get(
        "/api/v1/webhooks/logs", params={"limit": 2, "cursor": page["next_cursor"]}, headers=admin.headers
    ).json()
    assert [d["id"] for d in page["items"] + rest["items"]] == [d["id"] for d in everything]
    assert rest["next_cursor"] is None

    for params in ({"status": "sent"}, {"limit": 101}, {"cursor": "garbage"}, {"endpoint_id": 0}):
        response = client.get("/api/v1/webhooks/logs", params=params, headers=admin.headers)
        assert response.status_code == 422, params


def test_resend_starts_a_new_attempt_sequence(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    runner = RecordingRunner()
    with Receiver() as receiver:
        create_endpoint(client, admin, receiver.url(), ["*"])
        _queue(factory, admin)
        deliver_due(factory.runtime, tenant_id=admin.tenant_id)
        [delivered] = logs(client, admin)
        assert delivered["status"] == "delivered"

        # Resend through the service with a recording runner, then send it ourselves.
        with quiet_session(factory.runtime, admin.tenant_id, runner) as session:
            assert service.resend(session, [delivered["id"], 999_999]) == 1
        assert runner.jobs == [("webhooks.deliver", {"tenant_id": admin.tenant_id})]
        [requeued] = logs(client, admin)
        assert (requeued["status"], requeued["attempts"], requeued["delivered_at"]) == ("pending", 0, None)
        assert deliver_due(factory.runtime, tenant_id=admin.tenant_id) == 1
        first, second = receiver.requests
    assert first.headers["X-Greenline-Delivery"] == second.headers["X-Greenline-Delivery"]
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"]
    [again] = logs(client, admin)
    assert (again["status"], again["attempts"]) == ("delivered", 1)
    assert len(again["attempt_history"]) == 2


def test_resend_endpoint(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    with Receiver() as receiver:
        receiver.default_status = 410
        create_endpoint(client, admin, receiver.url(), ["*"])
        _queue(factory, admin, times=2)
        ids = [d["id"] for d in logs(client, admin)]
        response = client.post("/api/v1/webhooks/resend", json={"delivery_ids": ids}, headers=admin.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"requeued": 2}
        one = client.post("/api/v1/webhooks/resend", json={"delivery_id": ids[0]}, headers=admin.headers)
        assert one.json() == {"requeued": 1}
        receiver.wait_for(2)
        drain(factory.runtime)

    for body in ({}, {"delivery_ids": []}, {"delivery_ids": list(range(1, 102))}, {"delivery_ids": [0]}):
        response = client.post("/api/v1/webhooks/resend", json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"].startswith(("delivery_ids", "body.delivery_ids"))


def test_resend_ignores_other_tenants_deliveries(client: TestClient, factory: Factory) -> None:
    a, b = factory.tenant(), factory.tenant()
    create_endpoint(client, a, "http://127.0.0.1:9/a", ["*"])
    _queue(factory, a)
    with factory.runtime.db.session(a.tenant_id) as session:
        row = session.scalars(select(WebhookDelivery)).one()
        row.status, row.next_attempt_at = "failed", None
        session.commit()
    [before] = logs(client, a)
    b_key = factory.api_key(b)
    for outsider in (b, b_key):
        response = client.post(
            "/api/v1/webhooks/resend", json={"delivery_ids": [before["id"]]}, headers=outsider.headers
        )
        assert response.json() == {"requeued": 0}
        assert logs(client, outsider) == []
    assert logs(client, a) == [before]


def test_resend_skips_disabled_endpoints(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    endpoint = create_endpoint(client, admin, "http://127.0.0.1:9/x", ["*"])
    _queue(factory, admin)
    client.put(f"/api/v1/webhooks/{endpoint['id']}", json={"is_active": False}, headers=admin.headers)
    [row] = logs(client, admin)
    response = client.post("/api/v1/webhooks/resend", json={"delivery_id": row["id"]}, headers=admin.headers)
    assert response.json() == {"requeued": 0}


def test_a_claim_is_a_lease(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    create_endpoint(client, admin, "http://127.0.0.1:9/x", ["*"])
    _queue(factory, admin)
    runtime, now = factory.runtime, utcnow()
    with runtime.task_session(admin.tenant_id) as session:
        [held], count = claim(session, runtime.secrets, tenant_id=admin.tenant_id, now=now, limit=10)
    assert count == 1
    with runtime.task_session(admin.tenant_id) as session:
        assert claim(session, runtime.secrets, tenant_id=None, now=now + LEASE / 2, limit=10) == ([], 0)
    # A worker that died keeps the row only until its lease expires.
    with runtime.task_session(admin.tenant_id) as session:
        [again], _ = claim(session, runtime.secrets, tenant_id=admin.tenant_id, now=held.lease_until, limit=10)

    # The first worker's late result is recorded as an attempt but cannot overwrite the newer lease.
    stale = Outcome(held, now, 200, 5, None, "ok")
    with runtime.task_session(admin.tenant_id) as session:
        record(session, [stale])
    with runtime.db.session(admin.tenant_id) as session:
        row = session.scalars(select(WebhookDelivery)).one()
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, again.lease_until)
        assert len(session.scalars(select(WebhookAttempt)).all()) == 1


def test_postgres_workers_skip_rows_another_worker_is_claiming(client: TestClient, factory: Factory) -> None:
    runtime = factory.runtime
    if not runtime.db.is_postgres:
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serializes writers")
    admin = factory.tenant()
    assert admin.tenant_id is not None
    create_endpoint(client, admin, "http://127.0.0.1:9/x", ["*"])
    _queue(factory, admin, times=3)
    now = utcnow() + dt.timedelta(seconds=1)
    first = runtime.db.session(admin.tenant_id)
    second = runtime.db.session()
    try:
        mine, _ = claim(first, runtime.secrets, tenant_id=admin.tenant_id, now=now, limit=2)
        with unscoped(second):
            theirs, _ = claim(second, runtime.secrets, tenant_id=None, now=now, limit=10)
        assert len(mine) == 2
        assert len(theirs) == 1
        assert {c.delivery_id for c in mine}.isdisjoint({c.delivery_id for c in theirs})
    finally:
        first.rollback()
        second.rollback()
        first.close()
        second.close()
