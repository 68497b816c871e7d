"""A campaign message whose send outcome was lost (`unknown`) is settled by the statuses WhatsApp reports for it.

Every send carries our message id (`biz_opaque_callback_data`), which WhatsApp echoes in its status webhooks.
The statuses come in through the real inbound pipeline (the simulator's path, Cloud API payloads).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from greenline.campaigns import tasks
from greenline.campaigns.replay import HandDriven
from greenline.core.db import unscoped, utcnow
from greenline.core.runtime import Runtime
from greenline.inbound.service import ingest_simulated
from greenline.models import InboundEvent, Message, SenderNumber, UnmatchedStatus
from greenline.models.enums import MessageStatus
from tests.campaigns.helpers import add_contacts, sender
from tests.factories import Actor, Factory
from tests.inbound.helpers import eventually, status


def _status(wamid: str, state: str, number_id: str, ref: int | str) -> dict[str, Any]:
    payload = status(wamid, state, "5511900000000", number_id=number_id, ts=int(utcnow().timestamp()))
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = str(ref)
    return payload


def _deliver(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Store the status as the simulator does and wait until the inbound processor has applied it."""
    ingest_simulated(runtime, payload)

    def applied() -> bool:
        with runtime.db.session() as session:
            return session.scalar(select(func.count()).where(InboundEvent.processed_at.is_(None))) == 0

    eventually(applied)


def _provider_id(runtime: Runtime, number: dict[str, Any]) -> str:
    with runtime.db.session() as session, unscoped(session):
        found = session.get(SenderNumber, number["id"])
        assert found is not None
        assert found.provider_id
        return found.provider_id


def _message(runtime: Runtime, tenant_id: int, message_id: int) -> Message:
    with runtime.db.session(tenant_id) as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def _queued_campaign(client: TestClient, runtime: Runtime, admin: Actor, number_id: int, contacts: int) -> list[int]:
    """A started broadcast whose messages are queued (nothing dispatched); returns their ids."""
    assert admin.tenant_id is not None
    if not isinstance(runtime.runner, HandDriven):
        runtime.runner = HandDriven(runtime.runner)  # campaign jobs are not run: this test plays the worker
    add_contacts(runtime, admin.tenant_id, contacts)
    body = {"name": "Lost", "message": "Hi", "audience": {"all": True}, "sender_number_ids": [number_id],
            "settings": {"pacing": False}}  # fmt: skip
    campaign = client.post("/api/v1/campaigns/", json=body, headers=admin.headers).json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/start", headers=admin.headers).status_code == 200
    tasks.tick_tenant(runtime, admin.tenant_id)
    with runtime.db.session(admin.tenant_id) as session:
        ids = list(
            session.scalars(select(Message.id).where(Message.campaign_id == campaign["id"]).order_by(Message.id))
        )
    assert len(ids) == contacts
    return ids


def _mid_send(runtime: Runtime, tenant_id: int, message_ids: list[int]) -> None:
    """As a worker that died after claiming them: `sending`, claimed longer ago than the lease."""
    long_ago = utcnow() - dt.timedelta(seconds=runtime.settings.campaign_send_lease_seconds + 60)
    with runtime.task_session(tenant_id) as session:
        session.execute(
            update(Message).where(Message.id.in_(message_ids)).values(status=MessageStatus.sending, claimed_at=long_ago)
        )


def _reap(runtime: Runtime, tenant_id: int) -> int:
    with runtime.task_session(tenant_id) as session:
        return tasks.reap(session, tenant_id, runtime)


def _stats(client: TestClient, admin: Actor, campaign_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/campaigns/{campaign_id}/stats", headers=admin.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_unknown_messages_adopt_the_statuses_whatsapp_reports_for_them(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin = factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    number = sender(client, admin)
    number_id = _provider_id(runtime, number)
    early, late, stranger = _queued_campaign(client, runtime, admin, number["id"], 3)
    campaign_id = _message(runtime, tenant, early).campaign_id
    assert campaign_id is not None
    _mid_send(runtime, tenant, [early, late, stranger])

    # WhatsApp reports `sent` for `early` while it is still `sending` with no provider id: kept, unmatched.
    _deliver(runtime, _status("wamid.lost.early", "sent", number_id, early))
    assert _message(runtime, tenant, early).status == MessageStatus.sending
    # The lease runs out: all three become `unknown`, and `early` adopts the status that waited for it.
    assert _reap(runtime, tenant) == 3
    adopted = _message(runtime, tenant, early)
    assert adopted.status == MessageStatus.sent
    assert adopted.provider_message_id == "wamid.lost.early"
    assert adopted.sent_at is not None
    assert adopted.error_code is None
    with runtime.db.session(tenant) as session:
        assert session.scalar(select(UnmatchedStatus.resolved_at).where(UnmatchedStatus.client_ref == str(early)))

    # `late` is already `unknown` when its status arrives: adopted on arrival, and counted as sent too.
    _deliver(runtime, _status("wamid.lost.late", "delivered", number_id, late))
    settled = _message(runtime, tenant, late)
    assert settled.status == MessageStatus.delivered
    assert settled.provider_message_id == "wamid.lost.late"
    assert settled.sent_at is not None
    assert settled.delivered_at is not None

    stats = _stats(client, admin, campaign_id)
    assert (stats["unknown"], stats["sent"], stats["delivered"]) == (1, 2, 1)
    assert _message(runtime, tenant, stranger).status == MessageStatus.unknown


def test_a_status_cannot_adopt_a_message_of_another_number_or_tenant_or_one_already_sent(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    admin, other = factory.tenant(), factory.tenant()
    tenant = admin.tenant_id
    assert tenant is not None
    mine = sender(client, admin)
    second = sender(client, admin, display="+14155550111")
    theirs = sender(client, other, display="+14155550122")
    lost, sent = _queued_campaign(client, runtime, admin, mine["id"], 2)
    _mid_send(runtime, tenant, [lost])
    assert _reap(runtime, tenant) == 1
    with runtime.task_session(tenant) as session:
        session.execute(
            update(Message).where(Message.id == sent)
            .values(status=MessageStatus.sent, provider_message_id="wamid.real", sent_at=utcnow())
        )  # fmt: skip

    # Same tenant, another of its numbers; another tenant's number; a message that has its provider id.
    _deliver(runtime, _status("wamid.forged.1", "read", _provider_id(runtime, second), lost))
    _deliver(runtime, _status("wamid.forged.2", "read", _provider_id(runtime, theirs), lost))
    _deliver(runtime, _status("wamid.forged.3", "read", _provider_id(runtime, mine), sent))
    _deliver(runtime, _status("wamid.forged.4", "read", _provider_id(runtime, mine), "not-a-number"))

    untouched = _message(runtime, tenant, lost)
    assert (untouched.status, untouched.provider_message_id) == (MessageStatus.unknown, None)
    kept = _message(runtime, tenant, sent)
    assert (kept.status, kept.provider_message_id) == (MessageStatus.sent, "wamid.real")
    with runtime.db.session() as session, unscoped(session):
        unmatched = session.scalar(
            select(func.count()).select_from(UnmatchedStatus).where(UnmatchedStatus.resolved_at.is_(None))
        )
    assert unmatched == 4  # none dropped: all kept for reconciliation
