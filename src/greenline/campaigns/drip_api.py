"""The seed's drip endpoints under /api/v1/multi-features/campaigns: steps, enrolment, progress, analytics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from greenline.auth.dependencies import require
from greenline.campaigns import service
from greenline.campaigns.schemas import (
    AdvanceIn,
    AdvanceOut,
    DripAnalytics,
    EnrollIn,
    EnrollOut,
    ProgressOut,
    StepOut,
    StepsIn,
)
from greenline.core.deps import SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.models.campaign import EnrollmentStatus

router = APIRouter(prefix="/multi-features/campaigns", tags=["drip campaigns"])

CanRead = Annotated[Principal, Depends(require(Permission.campaigns_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.campaigns_write))]
READ_ERRORS = responses(401, 403, 404, 422)
WRITE_ERRORS = responses(401, 403, 404, 409, 422)


@router.post("/steps", response_model=list[StepOut], status_code=201, responses=WRITE_ERRORS)
def set_steps(session: SessionDep, _: CanWrite, body: StepsIn) -> list[StepOut]:
    """Set a draft campaign's steps (delays, conditions, messages), replacing any it had."""
    return service.set_steps(session, body.campaign_id, body.steps)


@router.get("/{campaign_id}/steps", response_model=list[StepOut], responses=READ_ERRORS)
def list_steps(session: SessionDep, _: CanRead, campaign_id: IdPath) -> list[StepOut]:
    """A campaign's steps in order."""
    return service.list_steps(session, campaign_id)


@router.post("/{campaign_id}/enroll", response_model=EnrollOut, responses=WRITE_ERRORS)
def enroll_contacts(session: SessionDep, _: CanWrite, campaign_id: IdPath, body: EnrollIn) -> EnrollOut:
    """Enrol contacts by id, segment or tags (opted-out and already enrolled contacts are left out)."""
    return service.enroll_contacts(session, campaign_id, body)


@router.get("/{campaign_id}/progress", response_model=Page[ProgressOut], responses=READ_ERRORS)
def list_progress(
    session: SessionDep, _: CanRead, campaign_id: IdPath, status: EnrollmentStatus | None = None,
    cursor: Cursor = None, limit: Limit = 50,
) -> Page[ProgressOut]:  # fmt: skip
    """Each contact's place in the drip: current step, next send time, completed or exited."""
    return service.list_progress(session, campaign_id, status=status, cursor=cursor, limit=limit)


@router.put("/{campaign_id}/progress", response_model=AdvanceOut, responses=WRITE_ERRORS)
def advance_progress(session: SessionDep, _: CanWrite, campaign_id: IdPath, body: AdvanceIn) -> AdvanceOut:
    """Move contacts by hand: send their next step now, skip to a later step, or take them out."""
    return AdvanceOut(updated=service.advance_progress(session, campaign_id, body))


@router.get("/{campaign_id}/analytics", response_model=DripAnalytics, responses=READ_ERRORS)
def drip_analytics(session: SessionDep, _: CanRead, campaign_id: IdPath) -> DripAnalytics:
    """Per-step funnel, contacts waiting at each step, completions and exit reasons."""
    return service.drip_analytics(session, campaign_id)
