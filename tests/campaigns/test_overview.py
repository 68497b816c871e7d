"""GET /campaigns/overview: the home page's campaign KPIs, per tenant, from counters and today's sends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from greenline.campaigns.overview import overview
from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.models import Campaign, Message, Tenant
from greenline.models.campaign import CampaignStatus
from greenline.models.enums import Direction, MessageStatus
from tests.campaigns.helpers import Engine, add_contacts, sender
from tests.factories import Actor, Factory

API = "/api/v1/campaigns"


def _broadcast(client: TestClient, runtime: Runtime, admin: Actor, contacts: int) -> dict[str, Any]:
    """Send a real broadcast to `contacts` new contacts on the simulator, until every message is delivered."""
    assert admin.tenant_id is not None
    engine = Engine(runtime, admin.tenant_id)
    number = sender(client, admin)
    add_contacts(runtime, admin.tenant_id, contacts)
    body = {"name": "Sale", "message": "Hi", "audience": {"all": True}, "sender_number_ids": [number["id"]]}
    campaign = client.post(f"{API}/", json=body, headers=admin.headers).json()
    assert client.post(f"{API}/{campaign['id']}/start", headers=admin.headers).status_code == 200

    def done() -> bool:
        stats = client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()
        return bool(stats["delivered"] == contacts)

    engine.run(done)
    data: dict[str, Any] = client.get(API + "/overview", headers=admin.headers).json()
    return data


def test_overview_sums_the_tenants_campaign_counters_and_counts_todays_sends(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    a = factory.tenant()
    b = factory.tenant()
    before = client.get(f"{API}/overview", headers=a.headers)
    assert before.status_code == 200, before.text
    assert before.json()["totals"]["sent"] == 0
    assert before.json()["rates"] == {"delivery_rate": None, "read_rate": None, "response_rate": None}
    assert before.json()["messages_sent_today"] == 0

    seen_a = _broadcast(client, runtime, a, 12)
    seen_b = _broadcast(client, runtime, b, 5)

    assert seen_a["totals"] == {"sent": 12, "delivered": 12, "read": 0, "replied": 0, "failed": 0, "opted_out": 0}
    assert seen_a["rates"] == {"delivery_rate": 1.0, "read_rate": 0.0, "response_rate": 0.0}
    assert seen_a["messages_sent_today"] == 12
    assert seen_a["campaigns"] == {"running": 0, "scheduled": 0, "paused": 0}
    assert seen_a["timezone"] == "UTC"
    # B's broadcast never shows in A's numbers, nor A's in B's.
    assert seen_b["totals"]["sent"] == 5
    assert seen_b["messages_sent_today"] == 5
    again_a = client.get(f"{API}/overview", headers=a.headers).json()
    assert again_a["totals"]["sent"] == 12
    assert again_a["messages_sent_today"] == 12


def test_overview_counts_live_campaigns_by_status(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    a = factory.tenant()
    b = factory.tenant()
    ids = []
    for owner in (a, a, a, a, b):
        body = {"name": "C", "message": "Hi", "audience": {"all": True}}
        ids.append(client.post(f"{API}/", json=body, headers=owner.headers).json()["id"])
    wanted = [CampaignStatus.running, CampaignStatus.running, CampaignStatus.paused, CampaignStatus.scheduled]
    with runtime.task_session() as session, unscoped(session):
        for campaign_id, status in zip(ids, [*wanted, CampaignStatus.running], strict=True):
            session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status=status))
    seen = client.get(f"{API}/overview", headers=a.headers).json()
    assert seen["campaigns"] == {"running": 2, "scheduled": 1, "paused": 1}
    assert client.get(f"{API}/overview", headers=b.headers).json()["campaigns"]["running"] == 1


def test_today_starts_at_midnight_in_the_tenants_time_zone(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    a = factory.tenant()
    assert a.tenant_id is not None
    contact = add_contacts(runtime, a.tenant_id, 1)[0]
    # 01:30 UTC on 2 March is 22:30 on 1 March in São Paulo (UTC-3): local midnight was 03:00 UTC on 1 March.
    now = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    sent_times = [
        dt.datetime(2026, 3, 1, 2, 59, tzinfo=dt.UTC),  # 23:59 on 28 Feb locally: yesterday
        dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC),  # local midnight: today
        dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC),  # today
    ]
    with runtime.task_session(a.tenant_id) as session:
        session.execute(
            update(Tenant).where(Tenant.id == a.tenant_id).values(settings={"timezone": "America/Sao_Paulo"})
        )
        for at in sent_times:
            session.add(
                Message(contact_id=contact, direction=Direction.outbound, status=MessageStatus.sent, sent_at=at)
            )
        # Inbound messages and unsent outbound ones are not "sent today".
        session.add(
            Message(contact_id=contact, direction=Direction.inbound, status=MessageStatus.received, sent_at=now)
        )
        session.add(Message(contact_id=contact, direction=Direction.outbound, status=MessageStatus.queued))
    with runtime.db.session(a.tenant_id) as session:
        seen = overview(session, now=now)
    assert seen.timezone == "America/Sao_Paulo"
    assert seen.today_start == dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC)
    assert seen.messages_sent_today == 2


def test_overview_needs_campaigns_read(client: TestClient, factory: Factory) -> None:
    from greenline.core.permissions import TenantRole

    a = factory.tenant()
    sales = factory.member(a, TenantRole.sales)
    assert client.get(f"{API}/overview", headers=sales.headers).status_code == 403
    assert client.get(f"{API}/overview").status_code == 401
