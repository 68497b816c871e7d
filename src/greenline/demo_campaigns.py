"""Campaigns for the demo tenant: a finished broadcast with real stats, a running drip, a scheduled sale.

The history is made by the real engine on the simulator, replayed on a manual clock that starts three
days ago: the broadcast goes out at the number's pace, then simulated days pass so deliveries, reads,
replies and opt-outs come back through the inbound pipeline and move the counters. Only an empty
tenant gets them, so a second `make run` keeps what the user changed.
"""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import select

from greenline.campaigns import service
from greenline.campaigns.replay import Replay
from greenline.campaigns.schemas import Audience, CampaignCreate, Schedule, StepIn, TemplateIn
from greenline.core import clock
from greenline.core.permissions import TenantRole
from greenline.core.principal import Principal
from greenline.core.runtime import Runtime
from greenline.models import Campaign

log = structlog.get_logger(__name__)

HISTORY = dt.timedelta(days=3)
STEP_S = 3600  # simulated seconds per replay round once the sends are out


def _tag_in(tag: str, countries: list[str]) -> dict[str, object]:
    """Segment rules: contacts with `tag` in some countries (keeps the replayed history quick to make)."""
    return {"all": [{"field": "tags", "op": "has", "value": tag}, {"field": "country", "op": "in", "value": countries}]}


def seed_campaigns(runtime: Runtime, tenant_id: int, admin_id: int, sender_id: int) -> bool:
    """Create and replay the demo campaigns once; returns False when the tenant already has campaigns."""
    with runtime.task_session(tenant_id) as session:
        if session.scalar(select(Campaign.id).limit(1)) is not None:
            return False
    real_now = clock.now(runtime)
    replay = Replay(runtime, tenant_id, start=(real_now - HISTORY).timestamp())
    principal = Principal(user_id=admin_id, tenant_id=tenant_id, role=TenantRole.admin, permissions=frozenset())
    try:
        with runtime.task_session(tenant_id) as session:
            service.create_template(session, TemplateIn(
                name="Order follow-up", body="Hi {{ first_name | default('there') }}, how is your order? "
                "Reply with any question.", category="utility"))  # fmt: skip
            broadcast = service.create_campaign(session, principal, CampaignCreate(
                name="Black Friday early access",
                message="{Hi|Hello} {{ first_name | default('there') }}! Black Friday starts early for you: "
                        "{{ discount }} off everything until Sunday.",
                variables={"discount": "30%"},
                audience=Audience(filter=_tag_in("black-friday", ["US", "GB", "BR", "MX"])),
                sender_number_ids=[sender_id],
            ))  # fmt: skip
            drip = service.create_campaign(session, principal, CampaignCreate(
                name="Trial onboarding", kind="drip", sender_number_ids=[sender_id],
                audience=Audience(filter=_tag_in("trial", ["US", "IN"])),
                steps=[
                    StepIn(body="Welcome aboard, {{ first_name | default('there') }}! Reply HELP any time."),
                    StepIn(body="Tip: save your favourites to get restock alerts.", delay_value=2, delay_unit="days",
                           condition={"type": "previous_read"}),
                    StepIn(body="Your trial ends soon. Want a hand choosing a plan?", delay_value=5,
                           delay_unit="days", condition={"type": "not_replied"}),
                ],
            ))  # fmt: skip
            service.start_campaign(session, broadcast.id)
            service.start_campaign(session, drip.id)
        # Send what is due, then let simulated time pass until now, applying every webhook on the way.
        while replay.clock.now() < real_now:
            sent = replay.send_due()
            replay.advance(1.0 if sent else min(STEP_S, (real_now - replay.clock.now()).total_seconds()))
    finally:
        replay.release()
    with runtime.task_session(tenant_id) as session:
        sale = service.create_campaign(session, principal, CampaignCreate(
            name="Weekend flash sale", audience=Audience(tags=["newsletter"]), sender_number_ids=[sender_id],
            message="{Flash sale|48-hour sale} this weekend, {{ first_name | default('friend') }}: "
                    "reply YES for the link.",
        ))  # fmt: skip
        saturday = real_now + dt.timedelta(days=(5 - real_now.weekday()) % 7 or 7)
        at = saturday.replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)
        service.schedule_campaign(session, sale.id, Schedule(at=at, per_contact_timezone=True))
    log.info("demo.campaigns_seeded", tenant_id=tenant_id)
    return True
