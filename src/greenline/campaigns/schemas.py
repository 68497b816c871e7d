"""Request and response shapes of the campaign and drip endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from greenline.campaigns.policy import CampaignPolicy
from greenline.core.types import DbId
from greenline.models.campaign import CampaignKind, CampaignStatus, EnrollmentStatus

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(max_length=4096)]
DelayUnit = Literal["minutes", "hours", "days", "weeks"]
ConditionType = Literal["previous_read", "previous_not_read", "replied", "not_replied", "has_tag", "lacks_tag"]
MediaKind = Literal["text", "image", "document", "video", "audio"]


class Audience(BaseModel):
    """Who gets the campaign: exactly one of a saved segment, tags (any of), segment rules, explicit ids, or all."""

    model_config = ConfigDict(extra="forbid")

    segment_id: DbId | None = None
    tags: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=50
    )
    filter: dict[str, Any] | None = Field(default=None, description="Segment rule tree (see /api/v1/segments)")
    contact_ids: list[DbId] | None = Field(default=None, max_length=10_000)
    all: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Audience:
        chosen = [k for k in ("segment_id", "tags", "filter", "contact_ids") if getattr(self, k) is not None]
        if self.all:
            chosen.append("all")
        if len(chosen) > 1:
            raise ValueError(f"choose one of segment_id, tags, filter, contact_ids or all (got {', '.join(chosen)})")
        return self


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ConditionType
    tag: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _tag_needed(self) -> Condition:
        if self.type in ("has_tag", "lacks_tag") and not self.tag:
            raise ValueError(f"a {self.type} condition needs a tag")
        return self


class CloudTemplate(BaseModel):
    """An approved WhatsApp template used on Cloud API numbers (business-initiated, outside the 24 h window)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")]
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] = "en"
    parameters: list[Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=list, max_length=20, description="Body parameters; each may use template variables"
    )


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    body: Body | None = None
    kind: MediaKind = "text"
    media_url: Annotated[str, StringConstraints(max_length=1000, pattern=r"^https?://")] | None = None
    cloud_template: CloudTemplate | None = None
    delay_value: int = Field(default=0, ge=0, le=100_000)
    delay_unit: DelayUnit = "minutes"
    delay_from: Literal["previous_step", "enrollment"] = "previous_step"
    condition: Condition | None = None

    @model_validator(mode="after")
    def _has_content(self) -> StepIn:
        if not (self.body and self.body.strip()) and not self.media_url and self.cloud_template is None:
            raise ValueError("a step needs a body, a media_url or a cloud_template")
        if self.kind != "text" and not self.media_url:
            raise ValueError(f"a {self.kind} step needs a media_url")
        return self


class StepOut(StepIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    campaign_id: int
    position: int
    condition: Condition | None = None
    cloud_template: CloudTemplate | None = None

    @field_validator("condition", "cloud_template", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return value or None


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: dt.datetime = Field(description="When to start; with per_contact_timezone, the wall-clock time to use")
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="IANA zone for a naive `at` (default: the tenant's time zone, else UTC)"
    )
    per_contact_timezone: bool = Field(
        default=False, description="Send at `at`'s wall-clock time in each contact's zone"
    )


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    kind: CampaignKind = CampaignKind.broadcast
    audience: Audience = Field(default_factory=Audience)
    message: Body | None = Field(default=None, description="Broadcast shortcut: the single step's body")
    template_id: DbId | None = Field(default=None, description="Use a saved template as the message")
    media_url: Annotated[str, StringConstraints(max_length=1000, pattern=r"^https?://")] | None = None
    steps: list[StepIn] | None = Field(default=None, max_length=50)
    sender_number_ids: list[DbId] = Field(default_factory=list, max_length=50)
    rotation: Literal["round_robin", "least_loaded"] = "round_robin"
    variables: dict[str, Annotated[str, StringConstraints(max_length=1000)]] = Field(
        default_factory=dict, max_length=50
    )
    settings: CampaignPolicy = Field(default_factory=CampaignPolicy)
    trigger: dict[str, Any] | None = Field(
        default=None, description='Drips: {"event": "contact.created"} or {"event": "tag.added", "tag": "x"}'
    )


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    audience: Audience | None = None
    message: Body | None = None
    media_url: Annotated[str, StringConstraints(max_length=1000, pattern=r"^https?://")] | None = None
    steps: list[StepIn] | None = Field(default=None, max_length=50)
    sender_number_ids: list[DbId] | None = Field(default=None, max_length=50)
    rotation: Literal["round_robin", "least_loaded"] | None = None
    variables: dict[str, Annotated[str, StringConstraints(max_length=1000)]] | None = Field(default=None, max_length=50)
    settings: CampaignPolicy | None = None
    trigger: dict[str, Any] | None = None


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    kind: CampaignKind
    status: CampaignStatus
    status_reason: str | None
    audience: dict[str, Any]
    sender_number_ids: list[int]
    rotation: str
    template_id: int | None
    variables: dict[str, Any]
    settings: dict[str, Any]
    trigger: dict[str, Any]
    scheduled_at: dt.datetime | None
    schedule_timezone: str | None
    schedule_per_contact: bool
    audience_size: int
    started_at: dt.datetime | None
    paused_at: dt.datetime | None
    completed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    steps: list[StepOut] = Field(default_factory=list)
    progress: float | None = Field(default=None, description="Share of the audience handled (sent, failed, skipped)")


class DuplicateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: DbId
    name: Name | None = None


class StepCounts(BaseModel):
    step_id: int
    position: int
    name: str | None
    queued: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    skipped: int
    opted_out: int
    unknown: int
    converted: int
    retried: int
    errors: dict[str, int]
    rates: dict[str, float | None]


class CampaignStats(BaseModel):
    campaign_id: int
    status: CampaignStatus
    status_reason: str | None
    audience_size: int
    queued: int = Field(description="Messages created (the funnel's top)")
    waiting: int = Field(description="Messages not yet handed to WhatsApp (queued or being sent)")
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    skipped: int
    opted_out: int
    unknown: int
    converted: int
    retried: int
    errors: dict[str, int]
    rates: dict[str, float | None]
    throughput_per_minute: int = Field(description="Messages accepted in the last full minute")
    projected_finish_at: dt.datetime | None
    steps: list[StepCounts]


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    category: Literal["marketing", "utility", "authentication"] = "marketing"
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] = "en"
    cloud_template: CloudTemplate | None = None


class TemplateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)] | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    body: Annotated[str, StringConstraints(min_length=1, max_length=4096)] | None = None
    category: Literal["marketing", "utility", "authentication"] | None = None
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] | None = None
    cloud_template: CloudTemplate | None = None


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    body: str
    category: str
    language: str
    variables: list[str]
    cloud_template: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body | None = Field(default=None, description="Source to preview; default: the campaign's first step")
    contact_id: DbId
    step_position: int | None = Field(default=None, ge=1)


class PreviewOut(BaseModel):
    contact_id: int
    text: str


class StepsIn(BaseModel):
    """Drip steps for a campaign (replaces the steps of a draft campaign)."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: DbId
    steps: list[StepIn] = Field(min_length=1, max_length=50)


class EnrollIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_ids: list[DbId] | None = Field(default=None, max_length=10_000)
    segment_id: DbId | None = None
    tags: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]] | None = None

    @model_validator(mode="after")
    def _one(self) -> EnrollIn:
        given = [k for k in ("contact_ids", "segment_id", "tags") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of contact_ids, segment_id or tags")
        return self


class EnrollOut(BaseModel):
    enrolled: int
    already_enrolled_or_excluded: int | None = None


class ProgressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    status: EnrollmentStatus
    current_step: int
    next_step_at: dt.datetime | None
    sender_number_id: int | None
    source: str
    enrolled_at: dt.datetime
    last_step_at: dt.datetime | None
    completed_at: dt.datetime | None
    exit_reason: str | None


class AdvanceIn(BaseModel):
    """Move contacts on by hand: to a given step (its message goes out now) or out of the drip."""

    model_config = ConfigDict(extra="forbid")

    contact_ids: list[DbId] = Field(min_length=1, max_length=1000)
    action: Literal["advance", "skip_to", "exit"] = "advance"
    step_position: int | None = Field(default=None, ge=1)


class AdvanceOut(BaseModel):
    updated: int


class StepAnalytics(BaseModel):
    step_id: int
    position: int
    name: str | None
    waiting: int = Field(description="Enrolments waiting for this step")
    counts: StepCounts


class DripAnalytics(BaseModel):
    campaign_id: int
    enrolled: int
    active: int
    completed: int
    exited: int
    exit_reasons: dict[str, int]
    steps: list[StepAnalytics]
