from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from greenline.core.types import DbId
from greenline.webhooks.events import ALL_EVENTS, SUBSCRIBABLE, DeliveryStatus

MAX_URL_LENGTH = 2000
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")

Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
UrlText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_LENGTH)]
EventTypeText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    WithJsonSchema({"type": "string", "enum": sorted(SUBSCRIBABLE)}),
]
EventTypes = Annotated[list[EventTypeText], Field(min_length=1, max_length=50)]


def check_url(value: str) -> str:
    """Accept an absolute http(s) URL without credentials; internal hosts are allowed (self-hosted installs)."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValueError("must be an http:// or https:// URL")
    if "@" in parts.netloc:
        raise ValueError("must not contain credentials; authenticate requests with the signature instead")
    host = parts.hostname
    if not host:
        raise ValueError("must include a host")
    if port == 0:
        raise ValueError("port must be between 1 and 65535")
    if parts.fragment:
        raise ValueError("must not contain a #fragment")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError("host is not a valid IPv6 address") from None
    elif not host.isascii():
        raise ValueError("host must be ASCII; use the punycode (xn--) form of an international domain")
    elif not _HOSTNAME.fullmatch(host) or len(host) > 253:
        raise ValueError("host is not a valid hostname or IP address")
    return value


def check_event_types(values: list[str]) -> list[str]:
    """Known event types only, de-duplicated and sorted; `*` alone stands for all of them."""
    unknown = sorted({v for v in values if v not in SUBSCRIBABLE})
    if unknown:
        raise ValueError(f"unknown event type(s): {', '.join(unknown)}; see GET /api/v1/webhooks/event-types")
    if ALL_EVENTS in values:
        return [ALL_EVENTS]
    return sorted(set(values))


class WebhookEndpointCreate(BaseModel):
    url: UrlText = Field(description="http(s) URL that receives the signed POSTs")
    event_types: EventTypes = Field(description="Event types to receive; `*` for all")
    description: Description | None = None
    is_active: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("event_types")
    @classmethod
    def _event_types(cls, value: list[str]) -> list[str]:
        return check_event_types(value)


class WebhookEndpointUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are."""

    url: UrlText | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    is_active: bool | None = None

    @field_validator("url", "event_types", "is_active", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("event_types")
    @classmethod
    def _event_types(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_event_types(value)


class WebhookEndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str | None
    event_types: list[str]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(description="The signing secret (`whsec_...`); shown only once")


class EventTypeOut(BaseModel):
    type: str
    description: str


class WebhookAttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    attempted_at: dt.datetime
    status_code: int | None
    duration_ms: int | None
    error: str | None
    response_excerpt: str | None


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int = Field(description="Attempts in the current sequence (a resend starts a new one)")
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    payload: dict[str, Any]
    attempt_history: list[WebhookAttemptOut] = Field(default_factory=list, description="Every attempt, oldest first")


class ResendRequest(BaseModel):
    delivery_ids: list[DbId] | None = Field(default=None, max_length=100, description="Up to 100 deliveries")
    delivery_id: DbId | None = None

    def ids(self) -> list[int]:
        return sorted({*(self.delivery_ids or []), *([self.delivery_id] if self.delivery_id else [])})


class ResendResult(BaseModel):
    requeued: int = Field(description="Deliveries queued again (ids of other tenants or unknown ids count 0)")
