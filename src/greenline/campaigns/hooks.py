"""How campaigns react to the rest of the product, inside the same unit of work.

- A contact opts out: every active enrolment of theirs exits and their queued campaign messages are
  skipped at once (the dispatcher also re-checks at claim time), and the opt-out is credited to the
  campaign message that provoked it.
- A contact replies: the reply is credited to their latest campaign message, and drips that end on a
  reply (nurture by default) let them go.
- A contact is created or gets a tag: running drips with that trigger enrol them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenline.campaigns import audience, stats
from greenline.campaigns.policy import policy_of
from greenline.core import clock, events
from greenline.core.db import session_tenant
from greenline.core.runtime import get_runtime
from greenline.models import Campaign, CampaignEnrollment, CampaignKind, CampaignStatus, CampaignStep, Contact, Message
from greenline.models.campaign import DRIP_KINDS, EnrollmentStatus
from greenline.models.enums import MessageStatus

log = structlog.get_logger(__name__)


def _now() -> dt.datetime:
    return clock.now(get_runtime())


def _exit(session: Session, contact_ids: list[int], reason: str, campaign_ids: list[int] | None = None) -> int:
    stmt = update(CampaignEnrollment).where(
        CampaignEnrollment.contact_id.in_(contact_ids), CampaignEnrollment.status == EnrollmentStatus.active
    )
    if campaign_ids is not None:
        stmt = stmt.where(CampaignEnrollment.campaign_id.in_(campaign_ids))
    result = session.execute(
        stmt.values(
            status=EnrollmentStatus.exited, exit_reason=reason, completed_at=_now(), next_step_at=None
        ).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@events.on("contact.opted_out")
def stop_campaigns_for_opt_out(session: Session, data: dict[str, Any]) -> None:
    tenant_id = session_tenant(session)
    if tenant_id is None:
        return
    contact_ids = list(session.scalars(select(Contact.id).where(Contact.phone == data["phone"])))
    if not contact_ids:
        return
    _exit(session, contact_ids, "opted_out")
    rows = session.execute(
        select(Message.campaign_id, Message.campaign_step_id).where(
            Message.contact_id.in_(contact_ids),
            Message.campaign_id.is_not(None),
            Message.status == MessageStatus.queued,
        )
    ).all()
    if rows:
        session.execute(
            update(Message)
            .where(Message.contact_id.in_(contact_ids), Message.campaign_id.is_not(None),
                   Message.status == MessageStatus.queued)
            .values(status=MessageStatus.skipped, error_code="opted_out", failed_at=_now())
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        counts: dict[tuple[int, int], dict[str, int]] = {}
        for campaign_id, step_id in rows:
            if campaign_id is None or step_id is None:
                continue
            slot = counts.setdefault((int(campaign_id), int(step_id)), {"skipped": 0})
            slot["skipped"] += 1
        stats.bump(session, tenant_id, counts)
    for contact_id in contact_ids:
        stats.attribute(session, tenant_id, contact_id, stats.OPTED_OUT, "opted_out", _now())


@events.on("message.received")
def credit_reply(session: Session, data: dict[str, Any]) -> None:
    tenant_id = data.get("tenant_id") or session_tenant(session)
    contact_id = data.get("contact_id")
    if tenant_id is None or contact_id is None or data.get("opted_out"):
        return
    stats.attribute(session, int(tenant_id), int(contact_id), stats.REPLIED, "replied", _now())
    active = session.scalars(
        select(Campaign)
        .join(CampaignEnrollment, CampaignEnrollment.campaign_id == Campaign.id)
        .where(CampaignEnrollment.contact_id == contact_id, CampaignEnrollment.status == EnrollmentStatus.active)
    ).all()
    leaving = [
        c.id
        for c in active
        if policy_of(c.settings).exit_on_reply or (policy_of(c.settings).exit_on_reply is None
                                                   and c.kind == CampaignKind.nurture)
    ]  # fmt: skip
    if leaving:
        _exit(session, [int(contact_id)], "replied", leaving)


def _enrol_by_trigger(session: Session, contact_id: int, matches: Any) -> None:
    drips = session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.running, Campaign.kind.in_(list(DRIP_KINDS)))
    ).all()
    for campaign in drips:
        if not campaign.trigger or not matches(campaign.trigger):
            continue
        steps = session.scalars(
            select(CampaignStep).where(CampaignStep.campaign_id == campaign.id).order_by(CampaignStep.position)
        ).all()
        now = _now()
        from greenline.campaigns.progression import first_due

        where = Contact.id == contact_id
        added = audience.enroll(
            session, campaign, (Contact.tenant_id == campaign.tenant_id) & where,
            sender_ids=list(campaign.sender_number_ids), weights=None, first_step_at=first_due(steps, now),
            now=now, source="trigger",
        )  # fmt: skip
        campaign.audience_size += added
        if added:
            log.info("campaign.enrolled_by_trigger", campaign_id=campaign.id, contact_id=contact_id)


@events.on("contact.created")
def enrol_new_contact(session: Session, data: dict[str, Any]) -> None:
    _enrol_by_trigger(session, int(data["contact_id"]), lambda t: t.get("event") == "contact.created")


@events.on("contact.tag_added")
def enrol_tagged_contact(session: Session, data: dict[str, Any]) -> None:
    added = {str(t).casefold() for t in data.get("tags", [])}
    _enrol_by_trigger(
        session,
        int(data["contact_id"]),
        lambda t: t.get("event") == "tag.added" and str(t.get("tag", "")).casefold() in added,
    )


@events.on("messages.statuses_applied")
def count_status_milestones(session: Session, data: dict[str, Any]) -> None:
    stats.tally_statuses(session, int(data["tenant_id"]), data["provider_message_ids"])


@events.on("messages.adopted")
def uncount_unknown(session: Session, data: dict[str, Any]) -> None:
    """Campaign messages whose lost send outcome WhatsApp reported after all are no longer `unknown`."""
    stats.untally_unknown(session, int(data["tenant_id"]), data["message_ids"])
