"""Who a campaign goes to: resolve the audience and enrol it with one INSERT … SELECT.

Opted-out numbers, numbers known not to be on WhatsApp, blocked contacts and contacts already in the
campaign are excluded in the same statement, so 100,000 contacts are enrolled without a Python loop.
Each enrolment gets its sender number here (sticky for every step): the number of the contact's open
conversation when it is one of the campaign's, else a rotation slot (round robin, or weighted by each
number's remaining daily capacity for least-loaded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Table, and_, case, false, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from greenline.core.db import session_tenant
from greenline.core.errors import InvalidInput
from greenline.models import (
    Campaign,
    CampaignEnrollment,
    Contact,
    Conversation,
    PhoneNumber,
)
from greenline.models.campaign import EnrollmentStatus
from greenline.models.enums import ContactStatus, ConversationStatus
from greenline.optouts.service import opted_out_clause
from greenline.segments.service import contact_filter, resolve_segment_filter

MAX_CONTACT_IDS = 10_000


def audience_filter(session: Session, audience: Mapping[str, Any]) -> ColumnElement[bool]:
    """WHERE clause over contacts for a campaign audience (segment, tags, rules, or explicit ids)."""
    tenant_id = session_tenant(session)
    wall = Contact.tenant_id == (tenant_id if tenant_id is not None else -1)
    if audience.get("segment_id") is not None:
        return resolve_segment_filter(session, int(audience["segment_id"]))
    if audience.get("tags"):
        return contact_filter(session, {"field": "tags", "op": "has_any", "value": list(audience["tags"])})
    if audience.get("filter") is not None:
        return contact_filter(session, audience["filter"])
    if audience.get("contact_ids") is not None:
        ids = [int(i) for i in audience["contact_ids"]]
        return and_(wall, Contact.id.in_(ids)) if ids else false()
    if audience.get("all"):
        return wall
    return false()


def eligible(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """Contacts of `where` a marketing message may go to."""
    not_on_whatsapp = (
        select(PhoneNumber.id)
        .where(
            PhoneNumber.tenant_id == Contact.tenant_id,
            PhoneNumber.phone == Contact.phone,
            PhoneNumber.is_whatsapp.is_(False),
        )
        .exists()
    )
    return and_(
        where,
        Contact.status.not_in([ContactStatus.blocked, ContactStatus.unsubscribed]),
        ~opted_out_clause(Contact.phone, Contact.tenant_id),
        ~not_on_whatsapp,
    )


def _rotation(sender_ids: Sequence[int], weights: Sequence[int] | None) -> ColumnElement[Any]:
    """A sender id per contact: contact id modulo the weights picks a slot (weights of 1 = round robin)."""
    if len(sender_ids) == 1:
        return literal(sender_ids[0], Integer)
    weights = list(weights or [1] * len(sender_ids))
    total = sum(weights)
    bucket = Contact.id % total
    whens, upper = [], 0
    for sender_id, weight in zip(sender_ids, weights, strict=True):
        upper += weight
        whens.append((bucket < upper, literal(sender_id, Integer)))
    return case(*whens, else_=literal(sender_ids[-1], Integer))


def sender_choice(sender_ids: Sequence[int], weights: Sequence[int] | None = None) -> ColumnElement[Any]:
    """The contact's conversation number when it is one of ours (sticky), else the rotation's pick."""
    if len(sender_ids) == 1:
        return literal(sender_ids[0], Integer)  # one number: nothing to choose, no per-contact lookup
    sticky = (
        select(Conversation.sender_number_id)
        .where(
            Conversation.tenant_id == Contact.tenant_id,
            Conversation.contact_id == Contact.id,
            Conversation.status.in_([ConversationStatus.open, ConversationStatus.pending]),
            Conversation.sender_number_id.in_(list(sender_ids)),
        )
        .limit(1)
        .scalar_subquery()
    )

    return func.coalesce(sticky, _rotation(sender_ids, weights))


def enroll(
    session: Session,
    campaign: Campaign,
    where: ColumnElement[bool],
    *,
    sender_ids: Sequence[int],
    weights: Sequence[int] | None,
    first_step_at: dt.datetime,
    now: dt.datetime,
    source: str,
) -> int:
    """Enrol every eligible contact of `where` not yet in the campaign; returns how many were added."""
    if not sender_ids:
        raise InvalidInput("sender_number_ids", "the campaign needs at least one connected WhatsApp number")
    table = cast(Table, CampaignEnrollment.__table__)
    query = select(
        Contact.tenant_id,
        literal(campaign.id, Integer),
        Contact.id,
        literal(EnrollmentStatus.active.value),
        literal(0, Integer),
        literal(first_step_at, CampaignEnrollment.__table__.c.next_step_at.type),
        sender_choice(sender_ids, weights),
        literal(source),
        literal(now, CampaignEnrollment.__table__.c.enrolled_at.type),
    ).where(eligible(where), true())
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).from_select(
        [
            "tenant_id",
            "campaign_id",
            "contact_id",
            "status",
            "current_step",
            "next_step_at",
            "sender_number_id",
            "source",
            "enrolled_at",
        ],
        query,
    )
    stmt = stmt.on_conflict_do_nothing(index_elements=["tenant_id", "campaign_id", "contact_id"])
    return inserted_count(session, stmt, table)


def inserted_count(session: Session, stmt: Any, table: Table) -> int:
    """Run an INSERT … SELECT and return how many rows it wrote.

    psycopg reports no row count for INSERT … SELECT through SQLAlchemy, so on PostgreSQL the insert
    becomes a CTE that is counted in the same statement; SQLite's row count is exact.
    """
    if session.get_bind().dialect.name != "postgresql":
        return int(getattr(session.execute(stmt), "rowcount", 0) or 0)
    written = stmt.returning(table.c.id).cte("written")
    return int(session.scalar(select(func.count()).select_from(written)) or 0)


def check_contact_ids(audience: Mapping[str, Any]) -> None:
    ids = audience.get("contact_ids")
    if ids is not None and len(ids) > MAX_CONTACT_IDS:
        raise InvalidInput("audience.contact_ids", f"at most {MAX_CONTACT_IDS} ids; use a segment or tags instead")
