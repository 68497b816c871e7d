from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from greenline.models import ChannelType, QualityRating, SenderStatus

Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]


class QuietHours(BaseModel):
    """No marketing sends between `start` and `end` in the recipient's time zone (may wrap midnight)."""

    model_config = ConfigDict(extra="forbid")
    start: Clock
    end: Clock

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class CloudCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone_number_id: Annotated[str, StringConstraints(pattern=r"^\d{5,30}$")]
    access_token: Annotated[str, StringConstraints(min_length=10, max_length=1000)]
    app_secret: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = None
    waba_id: Annotated[str, StringConstraints(pattern=r"^\d{5,30}$")] | None = None
    base_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=300)] | None = None
    api_version: Annotated[str, StringConstraints(pattern=r"^v\d{1,3}\.\d$")] | None = None


class PacingFields(BaseModel):
    daily_cap: int | None = Field(default=None, ge=1, le=1_000_000)
    hourly_cap: int | None = Field(default=None, ge=1, le=100_000)
    min_gap_seconds: float | None = Field(default=None, ge=0, le=3600)
    quiet_hours: QuietHours | None = None
    warmup_enabled: bool | None = None
    throughput_mps: int | None = Field(default=None, ge=1, le=1000)
    messaging_limit: int | None = Field(default=None, ge=1, le=10_000_000, description="Unique users per 24 h")


class SenderCreate(PacingFields):
    name: Name
    display_number: Phone
    channel: ChannelType
    cloud: CloudCredentials | None = None
    is_default: bool = False
    simulator: dict[str, float | int | bool] | None = Field(default=None, description="Simulator parameter overrides")

    @model_validator(mode="after")
    def _credentials_match_channel(self) -> SenderCreate:
        if self.channel == ChannelType.cloud and self.cloud is None:
            raise ValueError("cloud credentials are required for a Cloud API number")
        if self.channel != ChannelType.cloud and self.cloud is not None:
            raise ValueError("cloud credentials are only for Cloud API numbers")
        return self

    @field_validator("simulator")
    @classmethod
    def _simulator_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and (len(value) > 30 or any(not re.match(r"^[a-z_]{1,40}$", k) for k in value)):
            raise ValueError("overrides are up to 30 parameter names in snake_case")
        return value


class SenderUpdate(PacingFields):
    name: Name | None = None
    is_default: bool | None = None
    cloud: CloudCredentials | None = None


class SenderHealth(BaseModel):
    sent_24h: int
    failed_24h: int
    error_rate_24h: float
    warmup_day: int | None
    allowance_today: int | None


class SenderOut(BaseModel):
    id: int
    name: str
    display_number: str
    channel: ChannelType
    provider_id: str
    status: SenderStatus
    status_reason: str | None
    quality_rating: QualityRating
    messaging_limit: int | None
    throughput_mps: int
    is_default: bool
    warmup_enabled: bool
    warmup_started_at: dt.datetime | None
    daily_cap: int | None
    hourly_cap: int | None
    min_gap_seconds: float
    quiet_hours: dict[str, Any]
    last_event_at: dt.datetime | None
    created_at: dt.datetime
    health: SenderHealth | None = None


class ConnectionOut(BaseModel):
    number_id: int
    status: str
    detail: str | None = None
    quality_rating: str | None = None
    messaging_limit: int | None = None


class QrOut(BaseModel):
    number_id: int
    status: str
    qr: str | None = Field(description="PNG data URL of the QR code to scan in WhatsApp > Linked devices")


class PairingRequest(BaseModel):
    phone: Phone = Field(description="The number being linked, as on the phone that will type the code")
    number_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class PairingOut(BaseModel):
    number_id: int
    code: str = Field(description="Type it in WhatsApp > Linked devices > Link with phone number instead")


class SendRequest(BaseModel):
    to: Phone
    text: Annotated[str, StringConstraints(max_length=4096)] | None = None
    media_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=1000)] | None = None
    media_type: Annotated[str, StringConstraints(max_length=100)] | None = None
    number_id: int | None = Field(default=None, ge=1, le=2**63 - 1)

    @model_validator(mode="after")
    def _content(self) -> SendRequest:
        if not (self.text and self.text.strip()) and not self.media_url:
            raise ValueError("give a text or a media_url")
        return self


class BulkItem(BaseModel):
    to: Phone
    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class BulkSendRequest(BaseModel):
    messages: list[BulkItem] = Field(min_length=1, max_length=1000)
    number_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    marketing: bool = Field(default=True, description="Marketing sends skip opted-out numbers")


class SentMessage(BaseModel):
    message_id: int
    contact_id: int
    to: str
    status: str


class Skipped(BaseModel):
    to: str
    reason: str


class BulkSendResult(BaseModel):
    queued: list[SentMessage]
    skipped: list[Skipped]


class CheckContactOut(BaseModel):
    phone: str
    on_whatsapp: bool | None
    checked_at: dt.datetime
    source: Literal["channel", "cache"]
