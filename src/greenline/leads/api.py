"""The seed's lead endpoints: CRUD, pipeline moves, assignment, lists, stats and bulk changes.

Fixed paths are declared before `/{lead_id}` so they are never read as an id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from greenline.auth.dependencies import require
from greenline.core.deps import SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.leads import bulk, service, stats
from greenline.leads.repository import (
    LeadFilter,
    filter_from_list,
    filter_from_params,
)
from greenline.leads.schemas import (
    AssignUpdate,
    BulkAssign,
    BulkResult,
    BulkStatus,
    ConversionStats,
    LeadCreate,
    LeadFilterParams,
    LeadListParams,
    LeadOut,
    LeadUpdate,
    PipelineStats,
    QueryTimestamp,
    StatusChangeOut,
    StatusUpdate,
)

router = APIRouter(prefix="/leads", tags=["leads"])

CanReadLeads = Annotated[Principal, Depends(require(Permission.leads_read))]
CanWriteLeads = Annotated[Principal, Depends(require(Permission.leads_write))]
SearchText = Annotated[
    str, Query(min_length=1, max_length=200, pattern=r"\S", description="Title, notes, contact name/phone/email")
]
RangeTime = Annotated[QueryTimestamp | None, Query(description="Naive times are UTC")]
LIST_ERRORS = responses(401, 403, 422)


@router.post("/", response_model=LeadOut, status_code=201, responses=responses(401, 403, 422))
def create_lead(session: SessionDep, principal: CanWriteLeads, body: LeadCreate) -> LeadOut:
    """Create a lead on a contact of the tenant."""
    return service.create_lead(session, principal, body)


@router.get("/", response_model=Page[LeadOut], responses=LIST_ERRORS)
def list_leads(
    session: SessionDep,
    principal: CanReadLeads,
    params: Annotated[LeadListParams, Query()],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[LeadOut]:
    """Leads of the tenant (sales users: their own), filtered and sorted, one keyset page at a time."""
    flt = filter_from_list(principal, params)
    return service.list_leads(session, principal, flt, cursor=cursor, limit=limit, sort=params.sort, order=params.order)


@router.get("/high-priority", response_model=Page[LeadOut], responses=LIST_ERRORS)
def list_high_priority_leads(
    session: SessionDep, principal: CanReadLeads, cursor: Cursor = None, limit: Limit = 50
) -> Page[LeadOut]:
    """Open leads with high or urgent priority, newest first."""
    return service.list_high_priority(session, principal, cursor=cursor, limit=limit)


@router.get("/overdue", response_model=Page[LeadOut], responses=LIST_ERRORS)
def list_overdue_leads(
    session: SessionDep, principal: CanReadLeads, cursor: Cursor = None, limit: Limit = 50
) -> Page[LeadOut]:
    """Open leads whose follow-up time has passed, most overdue first."""
    return service.list_overdue(session, principal, cursor=cursor, limit=limit)


@router.get("/hot-leads", response_model=Page[LeadOut], responses=LIST_ERRORS)
def list_hot_leads(
    session: SessionDep, principal: CanReadLeads, cursor: Cursor = None, limit: Limit = 50
) -> Page[LeadOut]:
    """Open leads scoring above 80, highest score first."""
    return service.list_hot(session, principal, cursor=cursor, limit=limit)


@router.get("/filter", response_model=Page[LeadOut], responses=LIST_ERRORS)
def filter_leads(
    session: SessionDep,
    principal: CanReadLeads,
    params: Annotated[LeadFilterParams, Query()],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[LeadOut]:
    """Advanced filter: stages, priorities, score, value, created and follow-up ranges, assignee, source, tag."""
    flt = filter_from_params(principal, params)
    return service.list_leads(session, principal, flt, cursor=cursor, limit=limit, sort=params.sort, order=params.order)


@router.get("/search", response_model=Page[LeadOut], responses=LIST_ERRORS)
def search_leads(
    session: SessionDep, principal: CanReadLeads, q: SearchText, cursor: Cursor = None, limit: Limit = 50
) -> Page[LeadOut]:
    """Leads whose title or notes, or whose contact's name, phone or email, contain `q`."""
    return service.list_leads(session, principal, LeadFilter(text=q.strip()), cursor=cursor, limit=limit)


@router.get("/stats/pipeline", response_model=PipelineStats, responses=responses(401, 403))
def get_pipeline_stats(session: SessionDep, principal: CanReadLeads) -> PipelineStats:
    """Lead count and value per stage (all six), totals and win rate."""
    return stats.pipeline_stats(session, principal)


@router.get("/stats/conversion", response_model=ConversionStats, responses=responses(401, 403, 422))
def get_conversion_stats(
    session: SessionDep, principal: CanReadLeads, start: RangeTime = None, end: RangeTime = None
) -> ConversionStats:
    """Stage-to-stage conversion of the leads that entered each stage in [start, end) (default: last 30 days)."""
    return stats.conversion_stats(session, principal, start, end)


@router.post("/bulk/assign", response_model=BulkResult, responses=responses(401, 403, 422))
def bulk_assign_leads(session: SessionDep, principal: CanWriteLeads, body: BulkAssign) -> BulkResult:
    """Assign up to 500 leads to one member (or unassign them) in one statement."""
    return bulk.bulk_assign(session, principal, body)


@router.post("/bulk/update-status", response_model=BulkResult, responses=responses(401, 403, 422))
def bulk_update_lead_status(session: SessionDep, principal: CanWriteLeads, body: BulkStatus) -> BulkResult:
    """Move up to 500 leads to one stage, recording each move in the history."""
    return bulk.bulk_update_status(session, principal, body)


@router.get("/{lead_id}", response_model=LeadOut, responses=responses(401, 403, 404, 422))
def get_lead(session: SessionDep, principal: CanReadLeads, lead_id: IdPath) -> LeadOut:
    """One lead with its contact."""
    return service.get_lead(session, principal, lead_id)


@router.put("/{lead_id}", response_model=LeadOut, responses=responses(401, 403, 404, 422))
def update_lead(session: SessionDep, principal: CanWriteLeads, lead_id: IdPath, body: LeadUpdate) -> LeadOut:
    """Update the fields sent; a status change is recorded in the history."""
    return service.update_lead(session, principal, lead_id, body)


@router.delete("/{lead_id}", status_code=204, responses=responses(401, 403, 404, 422))
def delete_lead(session: SessionDep, principal: CanWriteLeads, lead_id: IdPath) -> None:
    """Delete a lead and its history."""
    service.delete_lead(session, principal, lead_id)


@router.put("/{lead_id}/status", response_model=LeadOut, responses=responses(401, 403, 404, 422))
def update_lead_status(session: SessionDep, principal: CanWriteLeads, lead_id: IdPath, body: StatusUpdate) -> LeadOut:
    """Move a lead to another stage (lost needs a reason); recorded with who, when and the note."""
    return service.change_status(session, principal, lead_id, body)


@router.get("/{lead_id}/history", response_model=Page[StatusChangeOut], responses=responses(401, 403, 404, 422))
def get_lead_history(
    session: SessionDep, principal: CanReadLeads, lead_id: IdPath, cursor: Cursor = None, limit: Limit = 100
) -> Page[StatusChangeOut]:
    """The lead's status changes, oldest first."""
    return service.lead_history(session, principal, lead_id, cursor=cursor, limit=limit)


@router.put("/{lead_id}/assign", response_model=LeadOut, responses=responses(401, 403, 404, 422))
def assign_lead(session: SessionDep, principal: CanWriteLeads, lead_id: IdPath, body: AssignUpdate) -> LeadOut:
    """Assign the lead to a member of the tenant, or unassign it with null."""
    return service.assign_lead(session, principal, lead_id, body)
