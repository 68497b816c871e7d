from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from greenline.core.permissions import TenantRole
from greenline.core.types import Email

Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class UserCreate(BaseModel):
    email: Email
    password: Password
    full_name: FullName | None = None
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,150}$")] | None = None
    role: TenantRole = TenantRole.marketer


class UserUpdate(BaseModel):
    full_name: FullName | None = None
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,150}$")] | None = None
    password: Password | None = None
    is_active: bool | None = None
    role: TenantRole | None = None


class UserOut(BaseModel):
    id: int
    email: str
    username: str | None
    full_name: str | None
    is_active: bool
    role: TenantRole
    created_at: dt.datetime
    updated_at: dt.datetime
