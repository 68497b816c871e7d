"""The seed's campaign endpoints (/api/v1/campaigns/...) plus message templates and previews.

Fixed paths (`/filter`, `/templates`, `/duplicate`) are declared before `/{campaign_id}`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from greenline.auth.dependencies import require
from greenline.campaigns import history, overview, service
from greenline.campaigns.history import ContactCampaignOut
from greenline.campaigns.overview import CampaignOverview
from greenline.campaigns.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignStats,
    CampaignUpdate,
    DuplicateIn,
    PreviewIn,
    PreviewOut,
    Schedule,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)
from greenline.core import clock
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.models import CampaignKind, CampaignStatus

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
# Campaign views of one contact, under the contacts path (registered right after the campaign routers).
contact_router = APIRouter(prefix="/contacts", tags=["campaigns"])

CanRead = Annotated[Principal, Depends(require(Permission.campaigns_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.campaigns_write))]
Search = Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name")]
READ_ERRORS = responses(401, 403, 404, 422)
WRITE_ERRORS = responses(401, 403, 404, 409, 422)


@router.post("/", response_model=CampaignOut, status_code=201, responses=WRITE_ERRORS)
def create_campaign(session: SessionDep, principal: CanWrite, body: CampaignCreate) -> CampaignOut:
    """Create a draft broadcast or drip; message templates are checked now (422 names the problem)."""
    return service.create_campaign(session, principal, body)


@router.get("/", response_model=Page[CampaignOut], responses=READ_ERRORS)
def list_campaigns(
    session: SessionDep, _: CanRead, cursor: Cursor = None, limit: Limit = 50,
    status: CampaignStatus | None = None, kind: CampaignKind | None = None, q: Search = None,
) -> Page[CampaignOut]:  # fmt: skip
    """List campaigns, newest first."""
    return service.list_campaigns(session, status=status, kind=kind, q=q, cursor=cursor, limit=limit)


@router.get("/filter", response_model=Page[CampaignOut], responses=READ_ERRORS)
def filter_campaigns(
    session: SessionDep, _: CanRead, status: CampaignStatus | None = None, kind: CampaignKind | None = None,
    q: Search = None, cursor: Cursor = None, limit: Limit = 50,
) -> Page[CampaignOut]:  # fmt: skip
    """Filter campaigns by status, kind and name."""
    return service.list_campaigns(session, status=status, kind=kind, q=q, cursor=cursor, limit=limit)


@router.get("/overview", response_model=CampaignOverview, responses=READ_ERRORS)
def get_campaigns_overview(session: SessionDep, runtime: RuntimeDep, _: CanRead) -> CampaignOverview:
    """Home page KPIs: live campaign counts, funnel totals and rates, and messages sent today (tenant's zone)."""
    return overview.overview(session, clock.now(runtime))


@router.get("/templates", response_model=Page[TemplateOut], responses=READ_ERRORS)
def list_templates(
    session: SessionDep, _: CanRead, q: Search = None, cursor: Cursor = None, limit: Limit = 50
) -> Page[TemplateOut]:
    """List reusable message templates."""
    return service.list_templates(session, q, cursor, limit)


@router.post("/templates", response_model=TemplateOut, status_code=201, responses=WRITE_ERRORS)
def create_template(session: SessionDep, _: CanWrite, body: TemplateIn) -> TemplateOut:
    """Save a reusable message template (checked like a campaign message)."""
    return TemplateOut.model_validate(service.create_template(session, body))


@router.get("/templates/{template_id}", response_model=TemplateOut, responses=READ_ERRORS)
def get_template(session: SessionDep, _: CanRead, template_id: IdPath) -> TemplateOut:
    """Get a message template."""
    return TemplateOut.model_validate(service.get_template(session, template_id))


@router.put("/templates/{template_id}", response_model=TemplateOut, responses=WRITE_ERRORS)
def update_template(session: SessionDep, _: CanWrite, template_id: IdPath, body: TemplateUpdate) -> TemplateOut:
    """Change a message template."""
    return TemplateOut.model_validate(service.update_template(session, template_id, body))


@router.delete("/templates/{template_id}", status_code=204, responses=WRITE_ERRORS)
def delete_template(session: SessionDep, _: CanWrite, template_id: IdPath) -> None:
    """Delete a message template (campaigns made from it keep their text)."""
    service.delete_template(session, template_id)


@router.post("/duplicate", response_model=CampaignOut, status_code=201, responses=WRITE_ERRORS)
def duplicate_campaign(session: SessionDep, principal: CanWrite, body: DuplicateIn) -> CampaignOut:
    """Copy a campaign (steps, audience, numbers, settings) as a new draft."""
    return service.duplicate_campaign(session, principal, body)


@router.get("/{campaign_id}", response_model=CampaignOut, responses=READ_ERRORS)
def get_campaign(session: SessionDep, _: CanRead, campaign_id: IdPath) -> CampaignOut:
    """Get a campaign with its steps and progress."""
    return service.campaign_out(session, service.get_campaign(session, campaign_id))


@router.put("/{campaign_id}", response_model=CampaignOut, responses=WRITE_ERRORS)
def update_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath, body: CampaignUpdate) -> CampaignOut:
    """Edit a draft, scheduled or paused campaign (messages and audience only before it starts)."""
    return service.update_campaign(session, campaign_id, body)


@router.delete("/{campaign_id}", status_code=204, responses=WRITE_ERRORS)
def delete_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath) -> None:
    """Delete a campaign that is not running (its sent messages stay in the conversations)."""
    service.delete_campaign(session, campaign_id)


@router.post("/{campaign_id}/start", response_model=CampaignOut, responses=WRITE_ERRORS)
def start_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath) -> CampaignOut:
    """Start now: enrol the audience and begin sending at each number's allowed pace."""
    return service.start_campaign(session, campaign_id)


@router.post("/{campaign_id}/pause", response_model=CampaignOut, responses=WRITE_ERRORS)
def pause_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath) -> CampaignOut:
    """Pause sending; nothing queued is lost."""
    return service.pause_campaign(session, campaign_id)


@router.post("/{campaign_id}/resume", response_model=CampaignOut, responses=WRITE_ERRORS)
def resume_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath) -> CampaignOut:
    """Resume a paused campaign."""
    return service.resume_campaign(session, campaign_id)


@router.post("/{campaign_id}/stop", response_model=CampaignOut, responses=WRITE_ERRORS)
def stop_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath) -> CampaignOut:
    """Stop for good: unsent messages are skipped and every contact leaves the campaign."""
    return service.stop_campaign(session, campaign_id)


@router.post("/{campaign_id}/schedule", response_model=CampaignOut, responses=WRITE_ERRORS)
def schedule_campaign(session: SessionDep, _: CanWrite, campaign_id: IdPath, body: Schedule) -> CampaignOut:
    """Start at a future time, in the tenant's zone or at that wall-clock time in each contact's zone."""
    return service.schedule_campaign(session, campaign_id, body)


@router.get("/{campaign_id}/stats", response_model=CampaignStats, responses=READ_ERRORS)
def get_campaign_stats(session: SessionDep, _: CanRead, campaign_id: IdPath) -> CampaignStats:
    """Funnel counters, rates, errors by code, throughput and projected finish (per step for drips)."""
    return service.campaign_stats(session, campaign_id)


@router.post("/{campaign_id}/preview", response_model=PreviewOut, responses=READ_ERRORS)
def preview_message(session: SessionDep, _: CanRead, campaign_id: IdPath, body: PreviewIn) -> PreviewOut:
    """Render a step (or a draft text) for one contact, exactly as it would be sent."""
    return service.preview(session, campaign_id, body)


@contact_router.get("/{contact_id}/campaigns", response_model=Page[ContactCampaignOut], responses=READ_ERRORS)
def list_contact_campaigns(
    session: SessionDep, _: CanRead, contact_id: IdPath, cursor: Cursor = None, limit: Limit = 20
) -> Page[ContactCampaignOut]:
    """The contact's campaign enrolments, newest first, each with the messages its steps sent."""
    return history.contact_campaigns(session, contact_id, cursor, limit)
