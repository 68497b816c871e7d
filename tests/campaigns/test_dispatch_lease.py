"""A batch that cannot start all its sends in half the lease puts the rest back, so the reaper never races it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.campaigns import dispatcher, tasks
from greenline.core.runtime import Runtime
from greenline.models import Message
from greenline.models.enums import MessageStatus
from tests.campaigns.helpers import QUIET, Engine, add_contacts, messages_by_contact, sender, statuses
from tests.factories import Factory


def test_sends_not_started_within_half_the_lease_go_back_to_the_queue_unspent(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    # 1.2 s lease: sends may start for 0.6 s; 200 sends of 0.3 s, 64 at a time, start over ~0.9 s.
    runtime.settings = runtime.settings.model_copy(update={"campaign_send_lease_seconds": 1.2})
    admin = factory.tenant()
    assert admin.tenant_id is not None
    engine = Engine(runtime, admin.tenant_id)
    number = sender(client, admin, simulator={**QUIET, "accept_latency_s": 0.3})
    add_contacts(runtime, admin.tenant_id, 200)
    body = {"name": "Lease", "message": "Hi", "audience": {"all": True}, "sender_number_ids": [number["id"]],
            "settings": {"pacing": False}}  # fmt: skip
    created = client.post("/api/v1/campaigns/", json=body, headers=admin.headers)
    campaign_id = created.json()["id"]
    assert client.post(f"/api/v1/campaigns/{campaign_id}/start", headers=admin.headers).status_code == 200
    tasks.tick_tenant(runtime, admin.tenant_id)  # queue the step
    dispatcher.dispatch_sender(runtime, admin.tenant_id, number["id"], run_seconds=5)

    first = statuses(runtime, admin.tenant_id, campaign_id)
    assert 0 < first.get("sent", 0) < 200
    assert first.get("queued", 0) == 200 - first["sent"]
    assert "sending" not in first
    assert "unknown" not in first
    with runtime.task_session(admin.tenant_id) as session:
        attempts = set(
            session.scalars(
                select(Message.attempts).where(
                    Message.campaign_id == campaign_id, Message.status == MessageStatus.queued
                )
            )
        )
    assert attempts == {0}  # never handed to the provider: the attempt is given back

    def done() -> bool:
        return client.get(f"/api/v1/campaigns/{campaign_id}", headers=admin.headers).json()["status"] == "completed"

    engine.run(done)
    assert set(messages_by_contact(runtime, admin.tenant_id, campaign_id).values()) == {1}
    assert set(statuses(runtime, admin.tenant_id, campaign_id)) <= {"sent", "delivered", "read"}
