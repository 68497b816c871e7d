from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, StringConstraints

from greenline.core.types import DbId, Email
from greenline.models.enums import ContactStatus, Priority

MAX_TAGS = 50
MAX_TAG_LENGTH = 50
MAX_CUSTOM_KEYS = 100
CUSTOM_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")
_TAG_FORBIDDEN = re.compile(r"[;,\x00-\x1f\x7f]")


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    if value not in _zones():
        raise ValueError("not an IANA time zone (e.g. Europe/Berlin)")
    return value


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def normalize_tag(raw: str) -> str:
    """Trim and collapse inner whitespace; tags keep their case."""
    tag = " ".join(raw.split())
    if not tag:
        raise ValueError("tags cannot be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"tags are at most {MAX_TAG_LENGTH} characters")
    if _TAG_FORBIDDEN.search(tag):
        raise ValueError("tags cannot contain ';', ',' or control characters")
    return tag


def merge_tags(current: list[str], extra: list[str]) -> list[str]:
    """`current` plus `extra`, deduplicated case-insensitively (the first spelling wins)."""
    seen = {tag.casefold() for tag in current}
    merged = list(current)
    for tag in extra:
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            merged.append(tag)
    return merged


def _tags(values: list[str]) -> list[str]:
    return merge_tags([], [normalize_tag(v) for v in values])


def _custom_keys(data: dict[str, Any]) -> dict[str, Any]:
    if len(data) > MAX_CUSTOM_KEYS:
        raise ValueError(f"at most {MAX_CUSTOM_KEYS} keys")
    for key in data:
        if not CUSTOM_KEY.match(key):
            raise ValueError(f"key {key[:70]!r} must match {CUSTOM_KEY.pattern}")
    return data


TagText = Annotated[str, StringConstraints(max_length=200)]
Tags = Annotated[
    list[TagText],
    Field(max_length=MAX_TAGS, description="Trimmed; case kept; duplicates (ignoring case) dropped"),
    AfterValidator(_tags),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Timezone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_timezone)]
Language = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Aware = Annotated[dt.datetime, AfterValidator(_aware)]
CustomValue = (
    StrictBool
    | Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]
    | Annotated[float, Field(strict=True, allow_inf_nan=False)]
    | Annotated[str, StringConstraints(max_length=1000)]
)
CustomData = Annotated[
    dict[str, CustomValue],
    AfterValidator(_custom_keys),
    Field(description="Flat typed values (text, number, boolean, ISO date text); keys ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$"),
]
CustomPatch = Annotated[
    dict[str, CustomValue | None],
    AfterValidator(_custom_keys),
    Field(description="Merged into the stored data (RFC 7386): given keys are set, keys set to null are removed"),
]


class ContactCreate(BaseModel):
    phone: PhoneText = Field(description="Any common format; national numbers use `country` or the tenant default")
    name: Name | None = None
    email: Email | None = None
    tags: Tags = Field(default_factory=list)
    custom_data: CustomData = Field(default_factory=dict)
    priority: Priority = Priority.medium
    source: Source | None = None
    status: ContactStatus = ContactStatus.active
    country: Country | None = Field(default=None, description="Derived from the number when not given")
    timezone: Timezone | None = Field(default=None, description="Derived from the number when not given")
    language: Language | None = Field(default=None, description="Derived from the country when not given")
    opt_in_source: Source | None = Field(default=None, description="How the contact consented to messages")
    opt_in_at: Aware | None = Field(default=None, description="When consent was given (now, if a source is given)")


class ContactUpdate(BaseModel):
    """Only the fields sent change; `custom_data` is merged, `tags` replaced."""

    phone: PhoneText | None = None
    name: Name | None = None
    email: Email | None = None
    tags: Tags | None = None
    custom_data: CustomPatch | None = None
    priority: Priority | None = None
    source: Source | None = None
    status: ContactStatus | None = None
    country: Country | None = None
    timezone: Timezone | None = None
    language: Language | None = None
    opt_in_source: Source | None = None
    opt_in_at: Aware | None = None


class ContactOut(BaseModel):
    id: int
    phone: str
    name: str | None
    email: str | None
    tags: list[str]
    custom_data: dict[str, Any]
    priority: Priority
    source: str | None
    status: ContactStatus
    country: str | None
    timezone: str | None
    language: str | None
    opt_in_source: str | None
    opt_in_at: dt.datetime | None
    last_contacted_at: dt.datetime | None
    opted_out: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class TagsAdd(BaseModel):
    tags: Annotated[Tags, Field(min_length=1)]


class ContactQuery(BaseModel):
    """Filters shared by the contact list and the export."""

    status: ContactStatus | None = None
    tag: list[Annotated[str, StringConstraints(max_length=MAX_TAG_LENGTH)]] = Field(
        default_factory=list, max_length=MAX_TAGS, description="Repeat for several tags"
    )
    tags_mode: Literal["all", "any", "none"] = Field(default="all", description="How several `tag` values combine")
    created_after: Aware | None = None
    created_before: Aware | None = None
    last_contacted_after: Aware | None = None
    last_contacted_before: Aware | None = None
    opted_out: bool | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = Field(
        default=None, description="Name, email or phone (any part)"
    )
    segment_id: DbId | None = Field(default=None, description="Only the contacts of this segment")


class PhoneCheck(BaseModel):
    phone: Annotated[str, StringConstraints(max_length=60)]
    country: Country | None = Field(default=None, description="Reads national numbers; defaults to the tenant's")


class PhoneValidation(BaseModel):
    valid: bool
    e164: str | None = None
    international: str | None = None
    country: str | None = None
    number_type: str | None = None
    timezone: str | None = None
    language: str | None = None
    reason: str | None = None
