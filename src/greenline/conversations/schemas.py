"""Request and response models of conversations, messages, notes and auto-reply settings."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from greenline.core.types import DbId
from greenline.models.enums import ContactStatus, ConversationStatus, Direction, MessageStatus

# Keys of Conversation.metadata starting with "_" are Greenline's own (the change log lives there).
RESERVED_PREFIX = "_"
MAX_METADATA_BYTES = 16_384

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MessageText = Annotated[str, StringConstraints(max_length=4096)]
MediaUrl = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^https?://\S+$")]
MediaType = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=100, pattern=r"^[A-Za-z]+/[A-Za-z0-9.+-]+$")
]
NoteText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form JSON for integrations: bounded in size, no reserved keys, no NaN."""
    if len(value) > 50:
        raise ValueError("at most 50 keys")
    for key in value:
        if not key or len(key) > 100:
            raise ValueError("keys must be 1 to 100 characters")
        if key.startswith(RESERVED_PREFIX):
            raise ValueError(f"keys starting with {RESERVED_PREFIX!r} are reserved")
    try:
        size = len(json.dumps(value, allow_nan=False))
    except ValueError:
        raise ValueError("must be plain JSON (no NaN or Infinity)") from None
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"must serialize to at most {MAX_METADATA_BYTES} bytes")
    return value


def _settable_status(value: ConversationStatus | None) -> ConversationStatus | None:
    if value == ConversationStatus.archived:
        raise ValueError("use POST /conversations/{id}/archive to archive")
    return value


class ConversationCreate(BaseModel):
    contact_id: DbId
    subject: Subject | None = None
    status: ConversationStatus = Field(default=ConversationStatus.open, description="open, pending or closed")
    assigned_to: DbId | None = Field(default=None, description="A member of the tenant; sales users get themselves")
    metadata: dict[str, Any] = Field(default_factory=dict)

    _status = field_validator("status")(_settable_status)
    _metadata = field_validator("metadata")(check_metadata)


class ConversationUpdate(BaseModel):
    """Fields left out stay as they are; `assigned_to: null` unassigns, `subject: null` clears."""

    assigned_to: DbId | None = None
    subject: Subject | None = None
    status: ConversationStatus | None = None
    metadata: dict[str, Any] | None = Field(default=None, description="Replaces the whole metadata object")

    _status = field_validator("status")(_settable_status)

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_metadata(value)


class StatusUpdate(BaseModel):
    status: ConversationStatus = Field(description="open, pending or closed (archive has its own endpoint)")

    _status = field_validator("status")(_settable_status)


class ContactSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone: str
    name: str | None
    email: str | None
    tags: list[str]
    status: ContactStatus


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: ClockTime = Field(description="Opening time, HH:MM (24 h)")
    end: ClockTime = Field(description="Closing time, HH:MM; earlier than start means overnight")
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1, max_length=7)

    @field_validator("end")
    @classmethod
    def _not_empty_span(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("start"):
            raise ValueError("must differ from start")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _timezones():
            raise ValueError("is not an IANA time zone such as Europe/Paris")
        return value

    @field_validator("days")
    @classmethod
    def _week_order(cls, value: list[Weekday]) -> list[Weekday]:
        return [day for day in WEEKDAYS if day in value]


class AutoReplySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    only_outside_hours: bool = Field(default=False, description="Reply only outside business_hours")
    business_hours: BusinessHours | None = Field(default=None, validate_default=True)
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = Field(
        default=None, validate_default=True
    )

    @field_validator("business_hours")
    @classmethod
    def _hours_when_needed(cls, value: BusinessHours | None, info: ValidationInfo) -> BusinessHours | None:
        if value is None and info.data.get("only_outside_hours"):
            raise ValueError("is required when only_outside_hours is true")
        return value

    @field_validator("message")
    @classmethod
    def _message_when_enabled(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and info.data.get("enabled"):
            raise ValueError("is required when enabled is true")
        return value or None


class ConversationOut(BaseModel):
    id: int
    contact_id: int
    contact: ContactSummary
    status: ConversationStatus
    assigned_to: int | None
    subject: str | None
    started_at: dt.datetime
    last_message_at: dt.datetime | None = Field(description="Last message, or creation while there is none")
    last_message_preview: str | None
    last_inbound_at: dt.datetime | None
    unread_count: int
    metadata: dict[str, Any]
    auto_reply: AutoReplySettings | None
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class MessageCreate(BaseModel):
    """An outbound message: text, media, or both (a caption)."""

    body: MessageText | None = None
    media_url: MediaUrl | None = None
    media_type: MediaType | None = Field(default=None, description="MIME type such as image/jpeg")
    reply_to_id: DbId | None = Field(default=None, description="A message of this conversation")


class Ticks(BaseModel):
    """Delivery state as WhatsApp shows it: the status and when each one was reached."""

    status: MessageStatus
    queued_at: dt.datetime | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    read_at: dt.datetime | None
    failed_at: dt.datetime | None
    received_at: dt.datetime | None
    error_code: str | None
    error_message: str | None


class MessageOut(BaseModel):
    id: int
    conversation_id: int | None
    contact_id: int
    direction: Direction
    kind: str
    body: str | None
    media_url: str | None
    media_type: str | None
    reply_to_id: int | None
    provider_message_id: str | None
    sent_by: int | None
    created_at: dt.datetime
    ticks: Ticks


class NoteCreate(BaseModel):
    body: NoteText


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    author_id: int | None
    body: str
    created_at: dt.datetime


class BulkDelete(BaseModel):
    ids: list[DbId] = Field(min_length=1, max_length=500)


class BulkDeleted(BaseModel):
    deleted: int = Field(description="Conversations deleted; ids not found (or not yours) are not counted")


class SearchHit(BaseModel):
    conversation: ConversationOut
    message_id: int
    snippet: str = Field(description="The matching part of the newest matching message")
    message_at: dt.datetime


EventType = Literal[
    "conversation.created",
    "conversation.status_changed",
    "conversation.assigned",
    "conversation.archived",
    "conversation.unarchived",
    "message.created",
    "message.received",
    "message.queued",
    "message.sent",
    "message.delivered",
    "message.read",
    "message.failed",
    "note.added",
]


class HistoryEvent(BaseModel):
    """One point of a conversation's timeline; fields not relevant to its type are null."""

    at: dt.datetime
    type: EventType
    by: int | None = Field(default=None, description="The user who caused it")
    message_id: int | None = None
    note_id: int | None = None
    direction: Direction | None = None
    text: str | None = Field(default=None, description="Message or note text")
    status: str | None = None
    previous_status: str | None = None
    assigned_to: int | None = None
    previous_assigned_to: int | None = None
    error_code: str | None = None
    error_message: str | None = None
