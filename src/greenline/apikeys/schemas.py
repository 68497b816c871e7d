from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from greenline.core.permissions import API_KEY_SCOPES, Permission


class ApiKeyCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scopes: list[Permission] = Field(
        default_factory=lambda: sorted(API_KEY_SCOPES), description="Permissions granted to the key"
    )
    rate_limit: int | None = Field(default=None, ge=1, le=100_000, description="Requests per minute")
    expires_at: dt.datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _grantable(cls, scopes: list[Permission]) -> list[Permission]:
        refused = sorted(set(scopes) - API_KEY_SCOPES)
        if refused:
            raise ValueError(f"scopes not grantable to an API key: {', '.join(refused)}")
        if not scopes:
            raise ValueError("at least one scope is required")
        return sorted(set(scopes))

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must include a timezone offset")
        if value <= dt.datetime.now(dt.UTC):
            raise ValueError("must be in the future")
        return value


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    name: str
    prefix: str
    scopes: list[str]
    rate_limit: int
    created_at: dt.datetime
    last_used: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret; shown only once")
