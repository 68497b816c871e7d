"""Drips on accelerated simulated time: delays, conditions, enrolment, progress, opt-outs, triggers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from greenline.core.runtime import Runtime
from greenline.models import Message
from greenline.models.enums import Direction, MessageStatus
from tests.campaigns.helpers import Engine, add_contacts, sender
from tests.factories import Factory

API = "/api/v1/campaigns"
DRIP = "/api/v1/multi-features/campaigns"
DAY = 86_400


def drip(client: TestClient, headers: dict[str, str], number_id: int, **body: Any) -> dict[str, Any]:
    payload = {
        "name": "Onboarding",
        "kind": "drip",
        "sender_number_ids": [number_id],
        "steps": [
            {"body": "Welcome {{ first_name }}"},
            {"body": "Did you see our catalogue?", "delay_value": 1, "delay_unit": "days",
             "condition": {"type": "previous_read"}},
            {"body": "Last call!", "delay_value": 2, "delay_unit": "days", "condition": {"type": "not_replied"}},
        ],
        **body,
    }  # fmt: skip
    response = client.post(f"{API}/", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def sent_steps(runtime: Runtime, tenant_id: int, campaign_id: int) -> dict[int, set[int]]:
    """Contacts that got a message, per step position."""
    from greenline.models import CampaignStep

    with runtime.task_session(tenant_id) as session:
        rows = session.execute(
            select(CampaignStep.position, Message.contact_id, Message.sent_at)
            .join(CampaignStep, CampaignStep.id == Message.campaign_step_id)
            .where(Message.campaign_id == campaign_id, Message.status != MessageStatus.skipped)
        ).all()
    out: dict[int, set[int]] = {}
    for position, contact_id, _ in rows:
        out.setdefault(position, set()).add(contact_id)
    return out


def test_a_three_step_drip_sends_each_step_at_its_time_to_the_right_contacts(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin = factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    engine = Engine(runtime, tenant)
    number = sender(client, admin)
    ids = add_contacts(runtime, tenant, 12)
    campaign = drip(client, admin.headers, number["id"])
    enrolled = client.post(f"{DRIP}/{campaign['id']}/enroll", json={"contact_ids": ids}, headers=admin.headers)
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["enrolled"] == 12
    assert client.post(f"{API}/{campaign['id']}/start", headers=admin.headers).status_code == 200

    engine.step(60)
    assert sent_steps(runtime, tenant, campaign["id"]) == {1: set(ids)}
    # Half the contacts read step 1; of those, two reply later.
    readers, repliers = set(ids[:6]), set(ids[:2])
    with runtime.task_session(tenant) as session:
        session.execute(
            update(Message)
            .where(Message.campaign_id == campaign["id"], Message.contact_id.in_(readers))
            .values(status=MessageStatus.read, read_at=engine.clock.now())
        )
    for _ in range(4):  # most of a day passes: step 2 is not due yet
        engine.step(5 * 3600)
    assert set(sent_steps(runtime, tenant, campaign["id"])) == {1}
    engine.step(4 * 3600)
    engine.step(60)
    assert sent_steps(runtime, tenant, campaign["id"])[2] == readers

    with runtime.task_session(tenant) as session:
        for contact_id in repliers:
            session.add(Message(tenant_id=tenant, contact_id=contact_id, direction=Direction.inbound, body="yes!",
                                status=MessageStatus.received, received_at=engine.clock.now()))  # fmt: skip
    engine.step(DAY)
    assert 3 not in sent_steps(runtime, tenant, campaign["id"])
    engine.step(DAY + 60)
    engine.step(60)
    assert sent_steps(runtime, tenant, campaign["id"])[3] == set(ids) - repliers

    progress = client.get(f"{DRIP}/{campaign['id']}/progress", headers=admin.headers).json()["items"]
    assert {p["status"] for p in progress} == {"completed"}
    analytics = client.get(f"{DRIP}/{campaign['id']}/analytics", headers=admin.headers).json()
    assert [s["counts"]["queued"] for s in analytics["steps"]] == [12, 6, 10]
    assert [s["counts"]["skipped"] for s in analytics["steps"]] == [0, 6, 2]
    assert analytics["completed"] == 12
    stats = client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()
    assert stats["sent"] == 28
    assert [s["sent"] for s in stats["steps"]] == [12, 6, 10]


def test_an_opt_out_stops_the_next_steps_at_once(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    engine = Engine(runtime, tenant)
    number = sender(client, admin)
    ids = add_contacts(runtime, tenant, 3)
    campaign = drip(client, admin.headers, number["id"], audience={"contact_ids": ids})
    client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    engine.step(60)
    assert (
        client.post("/api/v1/unsubscribers/", json={"phone": "+5511900000001"}, headers=admin.headers).status_code
        == 201
    )
    progress = client.get(f"{DRIP}/{campaign['id']}/progress", headers=admin.headers).json()["items"]
    by_contact = {p["contact_id"]: p for p in progress}
    assert by_contact[ids[1]]["status"] == "exited"
    assert by_contact[ids[1]]["exit_reason"] == "opted_out"
    with runtime.task_session(tenant) as session:
        session.execute(update(Message).where(Message.campaign_id == campaign["id"]).values(read_at=engine.clock.now()))
    for _ in range(5):
        engine.step(DAY)
    got = sent_steps(runtime, tenant, campaign["id"])
    assert ids[1] not in got[2]
    assert ids[1] not in got.get(3, set())
    assert got[2] == {ids[0], ids[2]}


def test_manual_moves_and_enrolment_rules(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    engine = Engine(runtime, tenant)
    number = sender(client, admin)
    ids = add_contacts(runtime, tenant, 4)
    campaign = drip(client, admin.headers, number["id"])
    url = f"{DRIP}/{campaign['id']}"
    steps = client.get(f"{url}/steps", headers=admin.headers).json()
    assert [s["position"] for s in steps] == [1, 2, 3]
    assert steps[1]["condition"] == {
        "type": "previous_read",
        "tag": None,
    }
    replaced = client.post(f"{DRIP}/steps", json={"campaign_id": campaign["id"], "steps": [
        {"body": "One"}, {"body": "Two", "delay_value": 1, "delay_unit": "weeks"}]}, headers=admin.headers)  # fmt: skip
    assert replaced.status_code == 201
    assert len(replaced.json()) == 2
    client.post(f"{url}/enroll", json={"contact_ids": ids}, headers=admin.headers)
    again = client.post(f"{url}/enroll", json={"contact_ids": ids}, headers=admin.headers).json()
    assert again == {"enrolled": 0, "already_enrolled_or_excluded": 4}
    client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    engine.step(60)
    moved = client.put(f"{url}/progress", json={"contact_ids": ids[:1], "action": "advance"}, headers=admin.headers)
    assert moved.json() == {"updated": 1}
    engine.step(60)
    assert sent_steps(runtime, tenant, campaign["id"])[2] == {ids[0]}
    out = client.put(f"{url}/progress", json={"contact_ids": ids[1:2], "action": "exit"}, headers=admin.headers)
    assert out.json() == {"updated": 1}
    bad = client.put(f"{url}/progress", json={"contact_ids": ids, "action": "skip_to", "step_position": 9},
                     headers=admin.headers)  # fmt: skip
    assert bad.status_code == 422
    locked = client.post(f"{DRIP}/steps", json={"campaign_id": campaign["id"], "steps": [{"body": "x"}]},
                         headers=admin.headers)  # fmt: skip
    assert locked.status_code == 409
    broadcast = client.post(f"{API}/", json={"name": "b", "message": "hi"}, headers=admin.headers).json()
    assert (
        client.post(f"{DRIP}/{broadcast['id']}/enroll", json={"contact_ids": ids}, headers=admin.headers).status_code
        == 409
    )


def test_a_tag_trigger_enrols_contacts_as_they_get_the_tag(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin = factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    engine = Engine(runtime, tenant)
    number = sender(client, admin)
    campaign = drip(client, admin.headers, number["id"], trigger={"event": "tag.added", "tag": "lead"})
    client.post(f"{API}/{campaign['id']}/start", headers=admin.headers)
    created = client.post("/api/v1/contacts/", json={"phone": "+5511988887777", "name": "Ana"}, headers=admin.headers)
    contact_id = created.json()["id"]
    engine.step(60)
    assert sent_steps(runtime, tenant, campaign["id"]) == {}
    tagged = client.post(f"/api/v1/contacts/{contact_id}/tags", json={"tags": ["Lead"]}, headers=admin.headers)
    assert tagged.status_code == 200, tagged.text
    engine.step(60)
    assert sent_steps(runtime, tenant, campaign["id"]) == {1: {contact_id}}
    # The drip keeps running for future contacts even when everyone enrolled so far is done.
    assert client.get(f"{API}/{campaign['id']}", headers=admin.headers).json()["status"] == "running"
    bad = client.post(f"{API}/", json={"name": "t", "message": "x", "trigger": {"event": "contact.created"}},
                      headers=admin.headers)  # fmt: skip
    assert bad.status_code == 422


def test_a_campaign_scheduled_for_later_starts_on_time(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    engine = Engine(runtime, tenant)
    number = sender(client, admin)
    add_contacts(runtime, tenant, 3)
    body = {"name": "Later", "message": "Hi", "audience": {"all": True}, "sender_number_ids": [number["id"]]}
    campaign = client.post(f"{API}/", json=body, headers=admin.headers).json()
    at = (engine.clock.now() + dt.timedelta(hours=3)).isoformat()
    past = client.post(f"{API}/{campaign['id']}/schedule", json={"at": "2001-01-01T00:00:00Z"}, headers=admin.headers)
    assert past.status_code == 422
    scheduled = client.post(f"{API}/{campaign['id']}/schedule", json={"at": at}, headers=admin.headers)
    assert scheduled.status_code == 200
    assert scheduled.json()["status"] == "scheduled"
    engine.step(2 * 3600)
    assert client.get(f"{API}/{campaign['id']}", headers=admin.headers).json()["status"] == "scheduled"
    engine.step(3600 + 5)
    engine.step(5)
    assert client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()["sent"] == 3
