"""Leads: create, read, update, delete, move through the pipeline, assign."""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.core.db import utcnow
from greenline.core.errors import Forbidden, InvalidInput, NotFound
from greenline.core.pagination import Page, keyset_page, split_page
from greenline.core.principal import Principal
from greenline.leads.repository import (
    OPEN_STAGES,
    LeadFilter,
    check_cursor,
    cursor_int,
    page_leads,
    visible_leads,
)
from greenline.leads.schemas import (
    AssignUpdate,
    LeadContact,
    LeadCreate,
    LeadOut,
    LeadSort,
    LeadUpdate,
    SortOrder,
    StatusChangeOut,
    StatusUpdate,
)
from greenline.models import Contact, Lead, LeadStatusChange, TenantUser, User
from greenline.models.enums import LeadStatus, Priority

log = structlog.get_logger(__name__)

HOT_SCORE = 80  # hot leads score above this
# Columns that always hold a value: an explicit null in an update is refused.
_REQUIRED_ON_UPDATE = ("status", "priority", "score", "custom_data", "currency")


def lead_out(lead: Lead, contact: Contact) -> LeadOut:
    """The API view of a lead with a summary of its contact."""
    fields = {name: getattr(lead, name) for name in LeadOut.model_fields if name != "contact"}
    return LeadOut.model_validate({**fields, "contact": LeadContact.model_validate(contact)})


def status_columns(status: LeadStatus, lost_reason: str | None, now: dt.datetime) -> dict[str, Any]:
    """Column values of a lead that has just entered `status` (won/lost stamps follow the current stage)."""
    if status == LeadStatus.lost and not lost_reason:
        raise InvalidInput("lost_reason", "is required when the status is lost")
    if status != LeadStatus.lost and lost_reason is not None:
        raise InvalidInput("lost_reason", "only applies when the status is lost")
    return {
        "status": status,
        "status_changed_at": now,
        "won_at": now if status == LeadStatus.won else None,
        "lost_at": now if status == LeadStatus.lost else None,
        "lost_reason": lost_reason if status == LeadStatus.lost else None,
    }


def check_assignee(session: Session, principal: Principal, user_id: int | None) -> None:
    """Sales users may assign only to themselves; any assignee must be an active member of the tenant."""
    if principal.assigned_only and user_id != principal.user_id:
        raise Forbidden(
            "sales users can only assign leads to themselves",
            details=[{"field": "assigned_to", "problem": "must be yourself"}],
        )
    if user_id is None:
        return
    member = session.scalar(
        select(TenantUser.user_id)
        .join(User, User.id == TenantUser.user_id)
        .where(TenantUser.user_id == user_id, User.is_active.is_(True))
    )
    if member is None:
        raise InvalidInput("assigned_to", "is not an active member of this tenant")


def _contact(session: Session, contact_id: int) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.id == contact_id))
    if contact is None:
        raise InvalidInput("contact_id", "no such contact in this tenant")
    return contact


def _record(session: Session, principal: Principal, lead: Lead, previous: LeadStatus | None, note: str | None) -> None:
    session.add(
        LeadStatusChange(
            lead_id=lead.id,
            from_status=previous,
            to_status=lead.status,
            changed_by=principal.user_id,
            note=note,
            created_at=lead.status_changed_at,
        )
    )


def _move(
    session: Session,
    principal: Principal,
    lead: Lead,
    status: LeadStatus,
    *,
    lost_reason: str | None,
    note: str | None,
) -> None:
    """Move a lead to `status` and record it; a move to its current stage only updates the lost reason."""
    if status == lead.status:
        if lost_reason is not None:
            if status != LeadStatus.lost:
                raise InvalidInput("lost_reason", "only applies when the status is lost")
            lead.lost_reason = lost_reason
        return
    previous = lead.status
    for name, value in status_columns(status, lost_reason, utcnow()).items():
        setattr(lead, name, value)
    _record(session, principal, lead, previous, note)
    log.info("lead.status_changed", lead_id=lead.id, from_status=previous, to_status=status)


def lead_row(session: Session, principal: Principal, lead_id: int) -> tuple[Lead, Contact]:
    """A lead the caller may see, with its contact; anything else is not found."""
    row = session.execute(visible_leads(principal).where(Lead.id == lead_id)).first()
    if row is None:
        raise NotFound("lead not found")
    lead, contact = row
    return lead, contact


def create_lead(session: Session, principal: Principal, data: LeadCreate) -> LeadOut:
    """Open a lead on a contact of the tenant; its first stage is recorded in the history."""
    contact = _contact(session, data.contact_id)
    assigned_to = data.assigned_to
    if principal.assigned_only and "assigned_to" not in data.model_fields_set:
        assigned_to = principal.user_id  # a sales user's new lead is theirs, or they could not see it
    check_assignee(session, principal, assigned_to)
    lead = Lead(
        contact_id=contact.id,
        title=data.title,
        priority=data.priority,
        score=data.score,
        assigned_to=assigned_to,
        custom_data=data.custom_data,
        value=data.value,
        currency=data.currency,
        source=data.source,
        notes=data.notes,
        next_follow_up_at=data.next_follow_up_at,
        **status_columns(data.status, data.lost_reason, utcnow()),
    )
    session.add(lead)
    session.flush()
    _record(session, principal, lead, None, None)
    session.flush()
    return lead_out(lead, contact)


def get_lead(session: Session, principal: Principal, lead_id: int) -> LeadOut:
    return lead_out(*lead_row(session, principal, lead_id))


def update_lead(session: Session, principal: Principal, lead_id: int, data: LeadUpdate) -> LeadOut:
    """Change the fields sent; a status change is recorded like PUT /{id}/status."""
    lead, contact = lead_row(session, principal, lead_id)
    changes = data.model_dump(exclude_unset=True)
    for name in _REQUIRED_ON_UPDATE:
        if name in changes and changes[name] is None:
            raise InvalidInput(name, "may not be null")
    if "assigned_to" in changes:
        check_assignee(session, principal, changes["assigned_to"])
    status = changes.pop("status", lead.status)
    lost_reason = changes.pop("lost_reason", None)
    _move(session, principal, lead, status, lost_reason=lost_reason, note=None)
    for name, value in changes.items():
        setattr(lead, name, value)
    session.flush()
    return lead_out(lead, contact)


def delete_lead(session: Session, principal: Principal, lead_id: int) -> None:
    """Delete a lead and its status history."""
    lead, _ = lead_row(session, principal, lead_id)
    session.delete(lead)
    session.flush()


def change_status(session: Session, principal: Principal, lead_id: int, data: StatusUpdate) -> LeadOut:
    """Move a lead to another stage, recording who, when and why."""
    lead, contact = lead_row(session, principal, lead_id)
    _move(session, principal, lead, data.status, lost_reason=data.lost_reason, note=data.note)
    session.flush()
    return lead_out(lead, contact)


def assign_lead(session: Session, principal: Principal, lead_id: int, data: AssignUpdate) -> LeadOut:
    """Assign a lead to a member of the tenant, or unassign it."""
    lead, contact = lead_row(session, principal, lead_id)
    check_assignee(session, principal, data.assigned_to)
    lead.assigned_to = data.assigned_to
    session.flush()
    return lead_out(lead, contact)


def lead_history(
    session: Session, principal: Principal, lead_id: int, *, cursor: str | None, limit: int
) -> Page[StatusChangeOut]:
    """The lead's status changes, oldest first."""
    lead, _ = lead_row(session, principal, lead_id)
    stmt = keyset_page(
        select(LeadStatusChange).where(LeadStatusChange.lead_id == lead.id),
        [LeadStatusChange.id.expression],
        check_cursor(cursor, 1),
        limit,
        coerce=[cursor_int],
    )
    rows = [StatusChangeOut.model_validate(change) for change in session.scalars(stmt)]
    items, next_cursor = split_page(rows, limit, lambda change: [change.id])
    return Page[StatusChangeOut](items=items, next_cursor=next_cursor)


def list_leads(
    session: Session,
    principal: Principal,
    flt: LeadFilter,
    *,
    cursor: str | None,
    limit: int,
    sort: LeadSort = LeadSort.created,
    order: SortOrder | None = None,
) -> Page[LeadOut]:
    """One keyset page of the caller's leads matching `flt`."""
    rows, next_cursor = page_leads(session, principal, flt, sort=sort, order=order, cursor=cursor, limit=limit)
    return Page[LeadOut](items=[lead_out(lead, contact) for lead, contact in rows], next_cursor=next_cursor)


def list_high_priority(session: Session, principal: Principal, *, cursor: str | None, limit: int) -> Page[LeadOut]:
    """Open leads with high or urgent priority, newest first."""
    flt = LeadFilter(statuses=OPEN_STAGES, priorities=(Priority.high, Priority.urgent))
    return list_leads(session, principal, flt, cursor=cursor, limit=limit)


def list_overdue(session: Session, principal: Principal, *, cursor: str | None, limit: int) -> Page[LeadOut]:
    """Open leads whose follow-up time has passed, most overdue first."""
    flt = LeadFilter(statuses=OPEN_STAGES, follow_up_to=utcnow())
    return list_leads(session, principal, flt, cursor=cursor, limit=limit, sort=LeadSort.next_follow_up)


def list_hot(session: Session, principal: Principal, *, cursor: str | None, limit: int) -> Page[LeadOut]:
    """Open leads scoring above 80, highest score first."""
    flt = LeadFilter(statuses=OPEN_STAGES, min_score=HOT_SCORE + 1)
    return list_leads(session, principal, flt, cursor=cursor, limit=limit, sort=LeadSort.score)
