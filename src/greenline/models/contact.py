from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow
from greenline.models.enums import ConsentKind, ContactStatus, ImportStatus, Priority


def str_enum(enum_cls: type[Any], length: int = 16) -> Enum:
    """Enums stored as plain strings (portable, and new values need no type migration)."""
    return Enum(enum_cls, native_enum=False, length=length, validate_strings=True)


class Contact(IdMixin, TenantMixin, TimestampMixin, Base):
    """A person the tenant messages; unique per (tenant, E.164 phone)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "phone"),
        Index("ix_contacts_tenant_id_id", "tenant_id", "id"),
        Index("ix_contacts_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_contacts_tenant_id_name", "tenant_id", "name"),
        Index("ix_contacts_tags_gin", "tags", postgresql_using="gin", postgresql_ops={"tags": "jsonb_path_ops"}),
    )

    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    tags: Mapped[list[str]] = mapped_column(default=list)
    custom_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.medium)
    source: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ContactStatus] = mapped_column(str_enum(ContactStatus), default=ContactStatus.active)
    country: Mapped[str | None] = mapped_column(String(2))
    timezone: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    opt_in_source: Mapped[str | None] = mapped_column(String(64))
    opt_in_at: Mapped[dt.datetime | None]
    last_contacted_at: Mapped[dt.datetime | None]


class PhoneNumber(IdMixin, TenantMixin, Base):
    """What the channel layer knows about a number: on WhatsApp or not, status, quality."""

    __tablename__ = "phone_numbers"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    phone: Mapped[str] = mapped_column(String(20))
    is_whatsapp: Mapped[bool | None]
    status: Mapped[str | None] = mapped_column(String(32))
    quality_score: Mapped[float | None]
    tags: Mapped[list[str]] = mapped_column(default=list)
    checked_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Unsubscriber(IdMixin, TenantMixin, Base):
    """An opted-out number: excluded from every marketing send of the tenant."""

    __tablename__ = "unsubscribers"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    phone: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(BigId)
    date: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ConsentEvent(IdMixin, TenantMixin, Base):
    """Audit trail of opt-ins and opt-outs, so consent can be proven later."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_tenant_id_phone", "tenant_id", "phone"),)

    phone: Mapped[str] = mapped_column(String(20))
    kind: Mapped[ConsentKind] = mapped_column(str_enum(ConsentKind))
    source: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(BigId)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Segment(IdMixin, TenantMixin, TimestampMixin, Base):
    """A saved filter (a validated JSON rule tree), resolved each time it is used."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))


class ContactImport(IdMixin, TenantMixin, Base):
    """A bulk import: the stored upload, its mapping, and progress counters."""

    __tablename__ = "contact_imports"

    filename: Mapped[str] = mapped_column(String(255))
    file_path: Mapped[str] = mapped_column(String(500))
    file_format: Mapped[str] = mapped_column(String(8))
    file_size: Mapped[int] = mapped_column(default=0)
    status: Mapped[ImportStatus] = mapped_column(str_enum(ImportStatus), default=ImportStatus.uploaded)
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detected: Mapped[dict[str, Any]] = mapped_column(default=dict)
    total_rows: Mapped[int | None]
    processed_rows: Mapped[int] = mapped_column(default=0)
    created_count: Mapped[int] = mapped_column(default=0)
    updated_count: Mapped[int] = mapped_column(default=0)
    skipped_count: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class ContactImportError(IdMixin, TenantMixin, Base):
    """One bad row of an import: where and why."""

    __tablename__ = "contact_import_errors"
    __table_args__ = (Index("ix_contact_import_errors_import", "tenant_id", "import_id", "row_number"),)

    import_id: Mapped[int] = mapped_column(BigId, ForeignKey("contact_imports.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    column: Mapped[str | None] = mapped_column(String(120))
    value: Mapped[str | None] = mapped_column(String(500))
    reason: Mapped[str] = mapped_column(String(300))
