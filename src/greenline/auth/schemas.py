from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from greenline.core.permissions import Permission, TenantRole
from greenline.core.types import DbId, Email


class LoginJSON(BaseModel):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    tenant_id: DbId | None = Field(default=None, description="Tenant to act in; defaults to the first membership")


class RefreshRequest(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    tenant_id: DbId | None = Field(default=None, description="Switch the session to another tenant of the user")


class LogoutRequest(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int
    tenant_id: int | None


class Membership(BaseModel):
    tenant_id: int
    tenant_name: str
    tenant_slug: str
    role: TenantRole


class Me(BaseModel):
    id: int | None
    email: str | None
    full_name: str | None
    is_superadmin: bool
    tenant_id: int | None
    role: TenantRole | None
    permissions: list[Permission]
    memberships: list[Membership]
    api_key_id: int | None = None
