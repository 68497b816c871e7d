"""Set-based bulk changes: one UPDATE (and one INSERT ... SELECT of history rows), whatever the count."""

from __future__ import annotations

from typing import Any, cast

import structlog
from sqlalchemy import ColumnElement, CursorResult, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from greenline.core.db import session_tenant, utcnow
from greenline.core.principal import Principal
from greenline.leads.schemas import BulkAssign, BulkResult, BulkStatus
from greenline.leads.service import check_assignee, status_columns
from greenline.models import Lead, LeadStatusChange

log = structlog.get_logger(__name__)


def _reach(principal: Principal) -> list[ColumnElement[bool]]:
    """Sales users' bulk operations touch only their own leads."""
    return [Lead.assigned_to == principal.user_id] if principal.assigned_only else []


def _updated(session: Session, stmt: Any) -> int:
    result = cast(CursorResult[Any], session.execute(stmt, execution_options={"synchronize_session": False}))
    return result.rowcount


def bulk_assign(session: Session, principal: Principal, data: BulkAssign) -> BulkResult:
    """Assign (or unassign) many leads at once; ids the caller cannot see are not counted."""
    check_assignee(session, principal, data.assigned_to)
    target = data.assigned_to
    differs = (
        Lead.assigned_to.is_not(None) if target is None else or_(Lead.assigned_to.is_(None), Lead.assigned_to != target)
    )
    stmt = update(Lead).where(Lead.id.in_(set(data.ids)), differs, *_reach(principal)).values(assigned_to=target)
    updated = _updated(session, stmt)
    log.info("lead.bulk_assigned", requested=len(data.ids), updated=updated, assigned_to=target)
    return BulkResult(updated=updated)


def bulk_update_status(session: Session, principal: Principal, data: BulkStatus) -> BulkResult:
    """Move many leads to one stage: one INSERT ... SELECT of history rows, then one UPDATE."""
    tenant_id = session_tenant(session)
    if tenant_id is None:
        raise RuntimeError("bulk status update needs a tenant-bound session")
    now = utcnow()
    values = status_columns(data.status, data.lost_reason, now)
    # The INSERT ... SELECT is Core SQL, which the ORM tenant filter does not rewrite: name the tenant here.
    moving = [
        Lead.tenant_id == tenant_id,
        Lead.id.in_(set(data.ids)),
        Lead.status != data.status,
        *_reach(principal),
    ]
    history = LeadStatusChange.__table__
    source = (
        select(
            Lead.tenant_id,
            Lead.id,
            Lead.status,
            literal(data.status, history.c.to_status.type),
            literal(principal.user_id, history.c.changed_by.type),
            literal(data.note, history.c.note.type),
            literal(now, history.c.created_at.type),
        )
        .where(*moving)
        .with_for_update()
    )
    columns = ["tenant_id", "lead_id", "from_status", "to_status", "changed_by", "note", "created_at"]
    session.execute(insert(LeadStatusChange).from_select(columns, source))
    updated = _updated(session, update(Lead).where(*moving).values(**values))
    log.info("lead.bulk_status_changed", requested=len(data.ids), updated=updated, to_status=data.status)
    return BulkResult(updated=updated)
