from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenline.core.permissions import TenantRole
from greenline.core.types import Email

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")]
Domain = Annotated[
    str, StringConstraints(max_length=253, pattern=r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
]
Plan = Annotated[str, StringConstraints(pattern=r"^(free|starter|growth|pro|enterprise)$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class TenantSettings(BaseModel):
    """Per-tenant preferences; unknown keys are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    default_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "US"
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "UTC"
    locale: Annotated[str, StringConstraints(min_length=2, max_length=16)] = "en"
    stop_keywords: list[Keyword] = Field(default_factory=list, max_length=100, description="Extra opt-out words")
    stop_keywords_replace: bool = Field(default=False, description="Use only `stop_keywords`, not the built-in list")
    opt_out_confirmation: Annotated[str, StringConstraints(max_length=1000)] | None = None


class TenantSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    locale: Annotated[str, StringConstraints(min_length=2, max_length=16)] | None = None
    stop_keywords: list[Keyword] | None = Field(default=None, max_length=100)
    stop_keywords_replace: bool | None = None
    opt_out_confirmation: Annotated[str, StringConstraints(max_length=1000)] | None = None


class TenantUserAdd(BaseModel):
    email: Email
    role: TenantRole = TenantRole.marketer
    password: Password | None = Field(default=None, description="Required when the user does not exist yet")
    full_name: Annotated[str, StringConstraints(max_length=200)] | None = None


class TenantCreate(BaseModel):
    name: Name
    slug: Slug | None = None
    domain: Domain | None = None
    plan: Plan = "free"
    billing_customer_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    settings: TenantSettings = Field(default_factory=TenantSettings)
    admin: TenantUserAdd | None = Field(default=None, description="First member of the tenant")


class TenantUpdate(BaseModel):
    name: Name | None = None
    slug: Slug | None = None
    domain: Domain | None = None
    plan: Plan | None = None
    billing_customer_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    is_active: bool | None = None
    settings: TenantSettingsUpdate | None = None


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    domain: str | None
    plan: str
    billing_customer_id: str | None
    settings: dict[str, object]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class TenantUserOut(BaseModel):
    user_id: int
    email: str
    full_name: str | None
    role: TenantRole
    is_active: bool
    joined_at: dt.datetime
