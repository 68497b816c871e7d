"""Move contacts through a campaign's steps: due enrolments become queued messages, set-based.

For each step, enrolments waiting on it whose time has come are taken in chunks (SKIP LOCKED on
PostgreSQL, so two workers never take the same rows); the step's condition is evaluated in SQL; one
INSERT … SELECT writes the messages, the unique (campaign, step, contact) key making a second copy
impossible; one UPDATE moves the enrolments on. Message bodies are rendered later by the dispatcher.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Table, and_, bindparam, func, literal, not_, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from greenline.campaigns import stats
from greenline.campaigns.audience import inserted_count
from greenline.models import Campaign, CampaignEnrollment, CampaignStep, Contact, Conversation, Message
from greenline.models.campaign import EnrollmentStatus
from greenline.models.enums import (
    ConversationStatus,
    Direction,
    MessageStatus,
)
from greenline.optouts.service import opted_out_clause
from greenline.segments.service import contact_filter

CHUNK = 20_000
UNIT_SECONDS = {"minutes": 60, "hours": 3_600, "days": 86_400, "weeks": 604_800}
CONDITIONS = ("previous_read", "previous_not_read", "replied", "not_replied", "has_tag", "lacks_tag")


def delay_of(step: CampaignStep) -> dt.timedelta:
    return dt.timedelta(seconds=step.delay_value * UNIT_SECONDS.get(step.delay_unit, 60))


def first_due(steps: Sequence[CampaignStep], start: dt.datetime) -> dt.datetime:
    return start + delay_of(steps[0]) if steps else start


def _previous_message(previous: CampaignStep) -> Any:
    return select(Message.id).where(
        Message.tenant_id == CampaignEnrollment.tenant_id,
        Message.campaign_step_id == previous.id,
        Message.contact_id == CampaignEnrollment.contact_id,
    )


def _replied_since() -> ColumnElement[bool]:
    since = func.coalesce(CampaignEnrollment.last_step_at, CampaignEnrollment.enrolled_at)
    return (
        select(Message.id)
        .where(
            Message.tenant_id == CampaignEnrollment.tenant_id,
            Message.contact_id == CampaignEnrollment.contact_id,
            Message.direction == Direction.inbound,
            Message.received_at >= since,
        )
        .exists()
    )


def condition_clause(session: Session, step: CampaignStep, previous: CampaignStep | None) -> ColumnElement[bool]:
    """The step's condition over an enrolment joined to its contact (no condition: true)."""
    kind = step.condition.get("type") if step.condition else None
    if not kind:
        return true()
    if kind in ("previous_read", "previous_not_read"):
        if previous is None:
            return true()
        was_read: ColumnElement[bool] = _previous_message(previous).where(Message.read_at.is_not(None)).exists()
        return was_read if kind == "previous_read" else not_(was_read)
    if kind == "replied":
        return _replied_since()
    if kind == "not_replied":
        return not_(_replied_since())
    tag = str(step.condition.get("tag", ""))
    has = contact_filter(session, {"field": "tags", "op": "has", "value": tag})
    return has if kind == "has_tag" else not_(has)


def _due_ids(session: Session, campaign_id: int, position: int, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    stmt = (
        select(CampaignEnrollment.id, CampaignEnrollment.enrolled_at)
        .where(
            CampaignEnrollment.campaign_id == campaign_id,
            CampaignEnrollment.status == EnrollmentStatus.active,
            CampaignEnrollment.current_step == position - 1,
            CampaignEnrollment.next_step_at <= now,
        )
        .order_by(CampaignEnrollment.id)
        .limit(CHUNK)
        .with_for_update(skip_locked=True)
    )
    return [(int(i), at) for i, at in session.execute(stmt).all()]


def _insert_messages(
    session: Session, campaign: Campaign, step: CampaignStep, ids: Sequence[int], cond: ColumnElement[bool],
    now: dt.datetime, marketing: bool,
) -> int:  # fmt: skip
    table = cast(Table, Message.__table__)
    conversation = (
        select(Conversation.id)
        .where(
            Conversation.tenant_id == CampaignEnrollment.tenant_id,
            Conversation.contact_id == CampaignEnrollment.contact_id,
            Conversation.status.in_([ConversationStatus.open, ConversationStatus.pending]),
        )
        .limit(1)
        .scalar_subquery()
    )
    at = literal(now, table.c.created_at.type)
    query = (
        select(
            CampaignEnrollment.tenant_id,
            conversation,
            CampaignEnrollment.contact_id,
            literal(Direction.outbound.value),
            CampaignEnrollment.sender_number_id,
            literal(step.kind),
            literal(step.media_url, table.c.media_url.type),
            literal(MessageStatus.queued.value),
            at,
            at,
            at,
            literal(campaign.id, Integer),
            literal(step.id, Integer),
            literal(0, Integer),
            literal(0, Integer),
        )
        .join(Contact, Contact.id == CampaignEnrollment.contact_id)
        .where(CampaignEnrollment.id.in_(list(ids)), cond)
    )
    if marketing:
        query = query.where(~opted_out_clause(Contact.phone, Contact.tenant_id))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).from_select(
        [
            "tenant_id",
            "conversation_id",
            "contact_id",
            "direction",
            "sender_number_id",
            "kind",
            "media_url",
            "status",
            "created_at",
            "queued_at",
            "next_attempt_at",
            "campaign_id",
            "campaign_step_id",
            "attempts",
            "tallied",
        ],
        query,
    )
    stmt = stmt.on_conflict_do_nothing(
        index_elements=["tenant_id", "campaign_id", "campaign_step_id", "contact_id"],
        index_where=table.c.campaign_id.is_not(None),
    )
    return inserted_count(session, stmt, table)


def _exit_opted_out(session: Session, ids: Sequence[int], now: dt.datetime) -> int:
    opted = (
        select(Contact.id)
        .where(Contact.id == CampaignEnrollment.contact_id, opted_out_clause(Contact.phone, Contact.tenant_id))
        .exists()
    )
    result = session.execute(
        update(CampaignEnrollment)
        .where(CampaignEnrollment.id.in_(list(ids)), opted)
        .values(status=EnrollmentStatus.exited, exit_reason="opted_out", completed_at=now, next_step_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _move_on(
    session: Session,
    rows: Sequence[tuple[int, dt.datetime]],
    step: CampaignStep,
    following: CampaignStep | None,
    now: dt.datetime,
    first_delay: dt.timedelta,
) -> None:
    """Record the step as handled and schedule the next one (or complete the enrolment)."""
    still_active = CampaignEnrollment.status == EnrollmentStatus.active
    ids = [i for i, _ in rows]
    if following is None:
        session.execute(
            update(CampaignEnrollment)
            .where(CampaignEnrollment.id.in_(ids), still_active)
            .values(current_step=step.position, last_step_at=now, status=EnrollmentStatus.completed,
                    completed_at=now, next_step_at=None)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return
    if following.delay_from != "enrollment":
        session.execute(
            update(CampaignEnrollment)
            .where(CampaignEnrollment.id.in_(ids), still_active)
            .values(current_step=step.position, last_step_at=now, next_step_at=now + delay_of(following))
            .execution_options(synchronize_session=False)
        )
        return
    # Delays counted from enrolment differ per contact: one executemany with each row's time.
    table = cast(Table, CampaignEnrollment.__table__)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("eid"), table.c.status == EnrollmentStatus.active.value)
        .values(current_step=step.position, last_step_at=now, next_step_at=bindparam("due")),
        [{"eid": i, "due": max(now, enrolled + first_delay + delay_of(following))} for i, enrolled in rows],
    )


def advance(session: Session, campaign: Campaign, steps: Sequence[CampaignStep], now: dt.datetime, *,
            marketing: bool = True, max_chunks: int = 50) -> int:  # fmt: skip
    """Queue the messages of every step that is due; returns how many messages were created."""
    created_total = 0
    ordered = sorted(steps, key=lambda s: s.position)
    first_delay = delay_of(ordered[0]) if ordered else dt.timedelta()
    for index, step in enumerate(ordered):
        previous = ordered[index - 1] if index else None
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        cond = condition_clause(session, step, previous)
        for _ in range(max_chunks):
            rows = _due_ids(session, campaign.id, step.position, now)
            if not rows:
                break
            ids = [i for i, _ in rows]
            exited = _exit_opted_out(session, ids, now) if marketing else 0
            created = _insert_messages(session, campaign, step, ids, cond, now, marketing)
            _move_on(session, rows, step, following, now, first_delay)
            stats.bump(
                session, campaign.tenant_id,
                {(campaign.id, step.id): {"queued": created, "opted_out": 0, "skipped": len(ids) - created - exited}},
            )  # fmt: skip
            created_total += created
            if len(rows) < CHUNK:
                break
    return created_total


def has_pending_enrollments(session: Session, campaign_id: int) -> bool:
    return (
        session.scalar(
            select(CampaignEnrollment.id)
            .where(CampaignEnrollment.campaign_id == campaign_id, CampaignEnrollment.status == EnrollmentStatus.active)
            .limit(1)
        )
        is not None
    )


def has_unsent_messages(session: Session, campaign_id: int) -> bool:
    return (
        session.scalar(
            select(Message.id)
            .where(
                Message.campaign_id == campaign_id,
                or_(Message.status == MessageStatus.queued, Message.status == MessageStatus.sending),
            )
            .limit(1)
        )
        is not None
    )


def next_due(session: Session, campaign_id: int) -> dt.datetime | None:
    return session.scalar(
        select(func.min(CampaignEnrollment.next_step_at)).where(
            and_(CampaignEnrollment.campaign_id == campaign_id, CampaignEnrollment.status == EnrollmentStatus.active)
        )
    )
