"""Broadcasts end to end on the simulator: audience, exactly-once, opt-outs, stats, lifecycle, validation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from greenline.campaigns import tasks
from greenline.core.runtime import Runtime
from greenline.models import Message
from greenline.models.enums import ContactStatus, MessageStatus
from tests.campaigns.helpers import Engine, add_contacts, messages_by_contact, opt_out, sender, statuses
from tests.factories import Factory

API = "/api/v1/campaigns"


def create(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"name": "Spring sale", "message": "{Hi|Hello} {{ first_name | default('there') }}!", **body}
    response = client.post(f"{API}/", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_a_broadcast_sends_one_message_to_every_eligible_contact_and_counts_it(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    engine = Engine(runtime, admin.tenant_id)
    number = sender(client, admin)
    ids = add_contacts(runtime, admin.tenant_id, 400)
    opt_out(runtime, admin.tenant_id, ids[:20])
    blocked = add_contacts(runtime, admin.tenant_id, 5, start=1000, status=ContactStatus.blocked)
    campaign = create(client, admin.headers, audience={"all": True}, sender_number_ids=[number["id"]])
    assert campaign["status"] == "draft"
    assert len(campaign["steps"]) == 1

    started = client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running"
    assert started.json()["audience_size"] == 380

    def done() -> bool:
        return client.get(f"{API}/{campaign['id']}", headers=admin.headers).json()["status"] == "completed"

    engine.run(done)
    per_contact = messages_by_contact(runtime, admin.tenant_id, campaign["id"])
    assert len(per_contact) == 380
    assert set(per_contact.values()) == {1}
    assert not set(per_contact) & set(ids[:20] + blocked)

    engine.advance(60)  # the simulated recipients' phones report delivery
    counts = statuses(runtime, admin.tenant_id, campaign["id"])
    assert set(counts) <= {"delivered", "read"}
    assert sum(counts.values()) == 380
    stats = client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()
    assert stats["queued"] == stats["sent"] == stats["delivered"] == 380
    assert stats["read"] == counts.get("read", 0)
    assert stats["failed"] == stats["unknown"] == 0
    assert stats["rates"]["delivery_rate"] == 1.0
    assert stats["waiting"] == 0
    assert stats["steps"][0]["sent"] == 380

    with runtime.task_session(admin.tenant_id) as session:
        bodies = set(session.scalars(select(Message.body).where(Message.campaign_id == campaign["id"])))
    assert "Hi Person25!" in bodies or "Hello Person25!" in bodies
    assert {b.split()[0] for b in bodies} == {"Hi", "Hello"}


def test_restarting_the_engine_on_the_same_campaign_never_creates_a_second_message(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    engine = Engine(runtime, admin.tenant_id)
    number = sender(client, admin)
    add_contacts(runtime, admin.tenant_id, 50)
    campaign = create(client, admin.headers, audience={"all": True}, sender_number_ids=[number["id"]])
    client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    # The step is queued, then the enrolments are put back as if the queuing had never been recorded.
    tasks.tick_tenant(runtime, admin.tenant_id)
    from greenline.models import CampaignEnrollment
    from greenline.models.campaign import EnrollmentStatus

    with runtime.task_session(admin.tenant_id) as session:
        session.execute(
            update(CampaignEnrollment)
            .where(CampaignEnrollment.campaign_id == campaign["id"])
            .values(status=EnrollmentStatus.active, current_step=0, next_step_at=engine.clock.now())
        )
    tasks.tick_tenant(runtime, admin.tenant_id)
    engine.run(lambda: statuses(runtime, admin.tenant_id, campaign["id"]).get("queued", 0) == 0)
    assert set(messages_by_contact(runtime, admin.tenant_id, campaign["id"]).values()) == {1}


def test_a_message_left_sending_by_a_dead_worker_becomes_unknown_and_is_not_sent_again(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    engine = Engine(runtime, admin.tenant_id)
    number = sender(client, admin)
    add_contacts(runtime, admin.tenant_id, 10)
    campaign = create(client, admin.headers, audience={"all": True}, sender_number_ids=[number["id"]])
    client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    tasks.tick_tenant(runtime, admin.tenant_id)
    with runtime.task_session(admin.tenant_id) as session:
        victims = list(session.scalars(select(Message.id).where(Message.campaign_id == campaign["id"]).limit(3)))
        session.execute(
            update(Message)
            .where(Message.id.in_(victims))
            .values(status=MessageStatus.sending, claimed_at=engine.clock.now() - dt.timedelta(hours=1))
        )
    engine.run(lambda: client.get(f"{API}/{campaign['id']}", headers=admin.headers).json()["status"] == "completed")
    with runtime.task_session(admin.tenant_id) as session:
        rows = session.execute(
            select(Message.id, Message.status, Message.provider_message_id).where(Message.id.in_(victims))
        ).all()
    assert {r.status for r in rows} == {MessageStatus.unknown}
    assert all(r.provider_message_id is None for r in rows)
    stats = client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()
    assert stats["unknown"] == 3
    assert stats["sent"] == 7


def test_opting_out_while_queued_skips_the_message(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    Engine(runtime, admin.tenant_id)
    number = sender(client, admin)
    add_contacts(runtime, admin.tenant_id, 5)
    campaign = create(client, admin.headers, audience={"all": True}, sender_number_ids=[number["id"]])
    client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    tasks.tick_tenant(runtime, admin.tenant_id)
    response = client.post("/api/v1/unsubscribers/", json={"phone": "+5511900000002"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    assert statuses(runtime, admin.tenant_id, campaign["id"]) == {"queued": 4, "skipped": 1}
    stats = client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()
    assert stats["skipped"] == 1


def test_lifecycle_moves_and_refusals(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    Engine(runtime, admin.tenant_id)
    number = sender(client, admin)
    add_contacts(runtime, admin.tenant_id, 5)
    campaign = create(client, admin.headers, audience={"all": True}, sender_number_ids=[number["id"]])
    url = f"{API}/{campaign['id']}"
    assert client.post(f"{url}/pause", headers=admin.headers).status_code == 409
    assert client.post(f"{url}/start", headers=admin.headers).json()["status"] == "running"
    assert client.post(f"{url}/start", headers=admin.headers).status_code == 409
    assert client.delete(url, headers=admin.headers).status_code == 409
    paused = client.post(f"{url}/pause", headers=admin.headers).json()
    assert paused["status"] == "paused"
    assert paused["status_reason"] == "paused by a user"
    assert tasks.tick_tenant(runtime, admin.tenant_id) == []  # a paused campaign wakes no dispatcher
    assert client.post(f"{url}/resume", headers=admin.headers).json()["status"] == "running"
    stopped = client.post(f"{url}/stop", headers=admin.headers).json()
    assert stopped["status"] == "stopped"
    assert statuses(runtime, admin.tenant_id, campaign["id"]).get("queued", 0) == 0
    assert client.post(f"{url}/resume", headers=admin.headers).status_code == 409
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(url, headers=admin.headers).status_code == 404


def test_templates_are_checked_when_the_campaign_is_saved(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    bad_variable = client.post(f"{API}/", json={"name": "x", "message": "Hi {{ first_nme }}"}, headers=admin.headers)
    assert bad_variable.status_code == 422
    detail = bad_variable.json()["error"]["details"][0]
    assert detail["field"] == "steps.0.body"
    assert "first_nme" in detail["problem"]
    syntax = client.post(f"{API}/", json={"name": "x", "message": "Hi\n{{ first_name "}, headers=admin.headers)
    assert syntax.status_code == 422
    assert "line" in syntax.json()["error"]["details"][0]["problem"]
    escape = client.post(f"{API}/", json={"name": "x", "message": "{{ ''.__class__ }}"}, headers=admin.headers)
    assert escape.status_code == 422
    no_message = client.post(f"{API}/", json={"name": "x"}, headers=admin.headers)
    assert no_message.status_code == 422
    two_audiences = client.post(
        f"{API}/",
        json={"name": "x", "message": "hi", "audience": {"all": True, "tags": ["vip"]}},
        headers=admin.headers,
    )
    assert two_audiences.status_code == 422
    with_var = client.post(
        f"{API}/",
        json={"name": "x", "message": "Use {{ code }}", "variables": {"code": "SPRING"}},
        headers=admin.headers,
    )
    assert with_var.status_code == 201


def test_preview_renders_for_one_contact(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    [contact_id] = add_contacts(runtime, admin.tenant_id, 1, custom_data={"plan": "Gold"})
    campaign = create(client, admin.headers, message="Hey {{ first_name }}, your {{ custom.plan }} plan. {{ code }}",
                      variables={"code": "X1"})  # fmt: skip
    response = client.post(f"{API}/{campaign['id']}/preview", json={"contact_id": contact_id}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["text"] == "Hey Person0, your Gold plan. X1"
    draft = client.post(
        f"{API}/{campaign['id']}/preview", json={"contact_id": contact_id, "body": "{{ name | upper }}"},
        headers=admin.headers,
    )  # fmt: skip
    assert draft.json()["text"] == "PERSON0 TEST"
    missing = client.post(f"{API}/{campaign['id']}/preview", json={"contact_id": 999999}, headers=admin.headers)
    assert missing.status_code == 422


def test_templates_crud_list_and_use(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = client.post(f"{API}/templates", json={"name": "Welcome", "body": "Hi {{ first_name }}"},
                          headers=admin.headers)  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["variables"] == ["first_name"]
    assert (
        client.post(f"{API}/templates", json={"name": "Welcome", "body": "x"}, headers=admin.headers).status_code == 409
    )
    bad = client.post(f"{API}/templates", json={"name": "Bad", "body": "{{ nope }}"}, headers=admin.headers)
    assert bad.status_code == 422
    listed = client.get(f"{API}/templates", headers=admin.headers).json()
    assert [t["name"] for t in listed["items"]] == ["Welcome"]
    campaign = create(client, admin.headers, message=None, template_id=created.json()["id"])
    assert campaign["steps"][0]["body"] == "Hi {{ first_name }}"
    copy = client.post(f"{API}/duplicate", json={"campaign_id": campaign["id"]}, headers=admin.headers)
    assert copy.status_code == 201
    assert copy.json()["name"] == "Spring sale (copy)"
    filtered = client.get(f"{API}/filter", params={"status": "draft", "q": "copy"}, headers=admin.headers).json()
    assert [c["id"] for c in filtered["items"]] == [copy.json()["id"]]


def test_another_tenants_segment_number_or_template_cannot_be_used(client: TestClient, factory: Factory) -> None:
    owner, outsider = factory.tenant(), factory.tenant()
    segment = client.post("/api/v1/segments/", json={"name": "VIP", "rules": {"all": []}}, headers=owner.headers)
    number = sender(client, owner)
    template = client.post(f"{API}/templates", json={"name": "T", "body": "Hi"}, headers=owner.headers)
    attempts = {
        "audience.segment_id": {"audience": {"segment_id": segment.json()["id"]}},
        "sender_number_ids.0": {"sender_number_ids": [number["id"]]},
        "template_id": {"template_id": template.json()["id"]},
    }
    for field, body in attempts.items():
        response = client.post(f"{API}/", json={"name": "x", "message": "hi", **body}, headers=outsider.headers)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["details"][0]["field"] == field
