"""A contact's campaign history: each enrolment (newest first) with the messages its steps sent.

Enrolments are paged by id with a keyset cursor, since a long-lived contact can collect many. A page's
messages come from one query on the contact's messages index, bounded by the unique
(campaign, step, contact) key: at most one message per step of each campaign on the page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.contacts.service import load_contact
from greenline.core.pagination import Page, after, decode_cursor, encode_cursor
from greenline.models import Campaign, CampaignEnrollment, CampaignStep, Message
from greenline.models.campaign import CampaignKind, CampaignStatus, EnrollmentStatus
from greenline.models.enums import MessageStatus


class CampaignMessageOut(BaseModel):
    id: int
    step_id: int | None
    step_position: int | None
    status: MessageStatus
    created_at: dt.datetime
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    failed_at: dt.datetime | None
    error_code: str | None


class ContactCampaignOut(BaseModel):
    campaign_id: int
    name: str
    kind: CampaignKind
    status: CampaignStatus
    enrollment_id: int
    enrollment_status: EnrollmentStatus
    current_step: int
    next_step_at: dt.datetime | None
    enrolled_at: dt.datetime
    completed_at: dt.datetime | None
    exit_reason: str | None
    messages: list[CampaignMessageOut]


def _messages(session: Session, contact_id: int, campaign_ids: list[int]) -> dict[int, list[CampaignMessageOut]]:
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(Message, CampaignStep.position)
        .outerjoin(CampaignStep, CampaignStep.id == Message.campaign_step_id)
        .where(Message.contact_id == contact_id, Message.campaign_id.in_(campaign_ids))
        .order_by(Message.id.desc())
    ).all()
    out: dict[int, list[CampaignMessageOut]] = defaultdict(list)
    for message, position in rows:
        assert message.campaign_id is not None
        out[message.campaign_id].append(
            CampaignMessageOut(
                id=message.id,
                step_id=message.campaign_step_id,
                step_position=position,
                status=message.status,
                created_at=message.created_at,
                sent_at=message.sent_at,
                delivered_at=message.delivered_at,
                read_at=message.read_at,
                failed_at=message.failed_at,
                error_code=message.error_code,
            )
        )
    return out


def contact_campaigns(session: Session, contact_id: int, cursor: str | None, limit: int) -> Page[ContactCampaignOut]:
    """The contact's enrolments, newest first; 404 when the contact is not the tenant's."""
    load_contact(session, contact_id)
    stmt = (
        select(CampaignEnrollment, Campaign)
        .join(Campaign, Campaign.id == CampaignEnrollment.campaign_id)
        .where(CampaignEnrollment.contact_id == contact_id)
        .order_by(CampaignEnrollment.id.desc())
    )
    if cursor:
        stmt = stmt.where(after([CampaignEnrollment.id], decode_cursor(cursor, 1), descending=True))
    rows = session.execute(stmt.limit(limit + 1)).all()
    page = rows[:limit]
    messages = _messages(session, contact_id, [campaign.id for _, campaign in page])
    items = [
        ContactCampaignOut(
            campaign_id=campaign.id,
            name=campaign.name,
            kind=campaign.kind,
            status=campaign.status,
            enrollment_id=enrolment.id,
            enrollment_status=enrolment.status,
            current_step=enrolment.current_step,
            next_step_at=enrolment.next_step_at,
            enrolled_at=enrolment.enrolled_at,
            completed_at=enrolment.completed_at,
            exit_reason=enrolment.exit_reason,
            messages=messages.get(campaign.id, []),
        )
        for enrolment, campaign in page
    ]
    next_cursor = encode_cursor([page[-1][0].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
