from __future__ import annotations

import datetime as dt
import enum
import json
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from greenline.core.types import DbId
from greenline.models.enums import LeadStatus, Priority

# Far enough from datetime's limits that converting offsets or adding a month never overflows.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
MAX_CUSTOM_DATA_BYTES = 16_384
MAX_BULK_IDS = 500


def bounded_utc(value: dt.datetime) -> dt.datetime:
    """A timestamp in UTC within the years the platform stores; naive values are read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        value = value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between the years 1900 and 9000")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("must include a timezone offset")
    return bounded_utc(value)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _small_json(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(json.dumps(value, allow_nan=False))
    except ValueError:
        raise ValueError("must be plain JSON (no NaN or Infinity)") from None
    if size > MAX_CUSTOM_DATA_BYTES:
        raise ValueError(f"must not exceed {MAX_CUSTOM_DATA_BYTES} bytes as JSON")
    return value


AwareTimestamp = Annotated[dt.datetime, AfterValidator(_aware)]
QueryTimestamp = Annotated[dt.datetime, AfterValidator(bounded_utc)]
CustomData = Annotated[dict[str, Any], AfterValidator(_small_json)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Notes = Annotated[str, StringConstraints(max_length=10_000)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
Currency = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(str.upper),
    Field(description="ISO 4217 code, e.g. USD"),
]
Score = Annotated[int, Field(ge=0, le=100)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2), AfterValidator(_cents)]
MoneyOut = Annotated[Decimal, AfterValidator(_cents)]
LostReason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
StatusNote = Annotated[str, StringConstraints(max_length=2_000)]
LeadIds = Annotated[list[DbId], Field(min_length=1, max_length=MAX_BULK_IDS)]


class LeadCreate(BaseModel):
    contact_id: DbId
    title: Title | None = None
    status: LeadStatus = LeadStatus.new
    priority: Priority = Priority.medium
    score: Score = 0
    assigned_to: DbId | None = Field(default=None, description="A member of the tenant; sales users get themselves")
    custom_data: CustomData = Field(default_factory=dict)
    value: Money | None = None
    currency: Currency = "USD"
    source: Source | None = None
    notes: Notes | None = None
    next_follow_up_at: AwareTimestamp | None = None
    lost_reason: LostReason | None = Field(default=None, description="Required when the status is lost")


class LeadUpdate(BaseModel):
    """Partial update: only the fields sent change; null clears an optional field."""

    title: Title | None = None
    status: LeadStatus | None = None
    priority: Priority | None = None
    score: Score | None = None
    assigned_to: DbId | None = None
    custom_data: CustomData | None = None
    value: Money | None = None
    currency: Currency | None = None
    source: Source | None = None
    notes: Notes | None = None
    next_follow_up_at: AwareTimestamp | None = None
    lost_reason: LostReason | None = None


class StatusUpdate(BaseModel):
    status: LeadStatus
    note: StatusNote | None = None
    lost_reason: LostReason | None = Field(default=None, description="Required when the status is lost")


class AssignUpdate(BaseModel):
    assigned_to: DbId | None = Field(description="The user to assign, or null to unassign")


class BulkAssign(BaseModel):
    ids: LeadIds
    assigned_to: DbId | None = Field(description="The user to assign, or null to unassign")


class BulkStatus(BaseModel):
    ids: LeadIds
    status: LeadStatus
    note: StatusNote | None = None
    lost_reason: LostReason | None = Field(default=None, description="Required when the status is lost")


class BulkResult(BaseModel):
    updated: int = Field(description="Leads that changed; unknown ids and leads already in that state are not counted")


class LeadContact(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    name: str | None
    email: str | None


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    contact: LeadContact
    title: str | None
    status: LeadStatus
    priority: Priority
    score: int
    assigned_to: int | None
    custom_data: dict[str, Any]
    value: MoneyOut | None
    currency: str
    source: str | None
    notes: str | None
    next_follow_up_at: dt.datetime | None
    status_changed_at: dt.datetime
    won_at: dt.datetime | None
    lost_at: dt.datetime | None
    lost_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class StatusChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    lead_id: int
    from_status: LeadStatus | None
    to_status: LeadStatus
    changed_by: int | None
    note: str | None
    created_at: dt.datetime


class LeadSort(enum.StrEnum):
    created = "created"
    score = "score"
    next_follow_up = "next_follow_up"


class SortOrder(enum.StrEnum):
    asc = "asc"
    desc = "desc"


AssigneeParam = Annotated[
    str,
    StringConstraints(pattern=r"^(me|[1-9][0-9]{0,18})$"),
    Field(description='A user id, or "me" for the caller'),
]


class LeadListParams(BaseModel):
    status: LeadStatus | None = None
    priority: Priority | None = None
    assigned_to: AssigneeParam | None = None
    min_score: Score | None = None
    max_score: Score | None = None
    has_follow_up: bool | None = None
    sort: LeadSort = LeadSort.created
    order: SortOrder | None = Field(default=None, description="Default: desc for created and score, asc for follow-up")


class LeadFilterParams(BaseModel):
    statuses: list[LeadStatus] = Field(default_factory=list, max_length=6)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    min_score: Score | None = None
    max_score: Score | None = None
    min_value: Money | None = None
    max_value: Money | None = None
    created_from: QueryTimestamp | None = Field(default=None, description="Inclusive; naive times are UTC")
    created_to: QueryTimestamp | None = Field(default=None, description="Exclusive")
    follow_up_from: QueryTimestamp | None = Field(default=None, description="Inclusive")
    follow_up_to: QueryTimestamp | None = Field(default=None, description="Exclusive")
    assigned_to: AssigneeParam | None = None
    assigned: bool | None = Field(default=None, description="true: has an assignee; false: unassigned")
    source: Source | None = None
    tag: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = Field(
        default=None, description="A tag of the lead's contact"
    )
    sort: LeadSort = LeadSort.created
    order: SortOrder | None = None


class StageStats(BaseModel):
    status: LeadStatus
    count: int
    total_value: Decimal
    value_by_currency: dict[str, Decimal]


class PipelineStats(BaseModel):
    stages: list[StageStats] = Field(description="All six stages in pipeline order, zeros included")
    total_count: int
    total_value: Decimal
    open_count: int
    open_value: Decimal
    won_count: int
    lost_count: int
    win_rate: float | None = Field(description="won / (won + lost); null when no lead is closed")


class StageConversion(BaseModel):
    from_status: LeadStatus
    to_status: LeadStatus
    entered: int = Field(description="Leads that entered from_status in the range")
    converted: int = Field(description="Of those, leads that later reached to_status (or a stage beyond it)")
    rate: float | None = Field(description="converted / entered; null when none entered")


class ConversionStats(BaseModel):
    start: dt.datetime
    end: dt.datetime
    stages: list[StageConversion]
    overall: StageConversion = Field(description="new → won")
