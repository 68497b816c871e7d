from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow
from greenline.core.permissions import TenantRole


class Tenant(IdMixin, TimestampMixin, Base):
    """A client business; owns every tenant-bound row."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    plan: Mapped[str] = mapped_column(String(32), default="free")
    billing_customer_id: Mapped[str | None] = mapped_column(String(128))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)


class TenantUser(IdMixin, TenantMixin, Base):
    """A user's membership of a tenant, with the role they hold there."""

    __tablename__ = "tenant_users"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[TenantRole] = mapped_column(Enum(TenantRole, native_enum=False, length=16, validate_strings=True))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
