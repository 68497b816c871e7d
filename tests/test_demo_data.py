"""The demo tenant that `make run` seeds shows every CRM feature in use."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.demo import seed_demo
from greenline.models import Campaign, CampaignStatus, Contact, Conversation, Lead, Message, Segment, Unsubscriber
from greenline.models.enums import LeadStatus
from tests.factories import Factory


def test_demo_seed_is_rich_and_idempotent(runtime: Runtime) -> None:
    tenant = seed_demo(runtime)
    seed_demo(runtime)
    with runtime.db.session(tenant.id) as session:
        count = session.scalar(select(func.count()).select_from(Contact))
        countries = set(session.scalars(select(Contact.country).distinct()))
        stages = set(session.scalars(select(Lead.status).distinct()))
        assert count == 3000
        assert len(countries) >= 6
        assert stages == set(LeadStatus)
        assert session.scalar(select(func.count()).select_from(Segment)) == 2
        assert session.scalar(select(func.count()).select_from(Conversation)) >= 100
        assert session.scalar(select(func.count()).select_from(Message)) > 300
        assert session.scalar(select(func.count()).select_from(Unsubscriber)) > 0
    with runtime.db.session() as session, unscoped(session):
        assert session.scalar(select(func.count()).select_from(Contact)) == 3000


def test_demo_campaigns_have_real_history(runtime: Runtime, client: TestClient, factory: Factory) -> None:
    tenant = seed_demo(runtime)
    with runtime.db.session(tenant.id) as session:
        by_name = {c.name: c for c in session.scalars(select(Campaign))}
    assert by_name["Black Friday early access"].status == CampaignStatus.completed
    assert by_name["Trial onboarding"].status == CampaignStatus.running
    assert by_name["Weekend flash sale"].status == CampaignStatus.scheduled
    headers = factory.login(runtime.settings.admin_email, runtime.settings.admin_password).headers
    stats = client.get(f"/api/v1/campaigns/{by_name['Black Friday early access'].id}/stats", headers=headers).json()
    assert stats["sent"] > 100
    assert stats["delivered"] > 0.8 * stats["sent"]
    assert 0 < stats["read"] < stats["delivered"]
    assert stats["replied"] > 0
    drip = client.get(f"/api/v1/multi-features/campaigns/{by_name['Trial onboarding'].id}/analytics",
                      headers=headers).json()  # fmt: skip
    assert drip["steps"][0]["counts"]["sent"] > 0
    assert drip["steps"][1]["counts"]["sent"] > 0
    assert drip["active"] > 0
