"""The demo tenant that `make run` seeds shows every CRM feature in use."""

from __future__ import annotations

from sqlalchemy import func, select

from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.demo import seed_demo
from greenline.models import Contact, Conversation, Lead, Message, Segment, Unsubscriber
from greenline.models.enums import LeadStatus


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
