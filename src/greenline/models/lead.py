from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow
from greenline.models.contact import str_enum
from greenline.models.enums import LeadStatus, Priority


class Lead(IdMixin, TenantMixin, TimestampMixin, Base):
    """A sales opportunity with one contact, moving through the pipeline."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_tenant_status", "tenant_id", "status", "id"),
        Index("ix_leads_tenant_assigned", "tenant_id", "assigned_to"),
        Index("ix_leads_tenant_follow_up", "tenant_id", "next_follow_up_at"),
        Index("ix_leads_tenant_score", "tenant_id", "score"),
        Index("ix_leads_tenant_contact", "tenant_id", "contact_id"),
    )

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus), default=LeadStatus.new)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.medium)
    score: Mapped[int] = mapped_column(default=0)
    assigned_to: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    custom_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    source: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    next_follow_up_at: Mapped[dt.datetime | None]
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    won_at: Mapped[dt.datetime | None]
    lost_at: Mapped[dt.datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(String(300))


class LeadStatusChange(IdMixin, TenantMixin, Base):
    """Every move of a lead between stages, for history and funnel analytics."""

    __tablename__ = "lead_status_history"
    __table_args__ = (
        Index("ix_lead_status_history_lead", "tenant_id", "lead_id", "id"),
        Index("ix_lead_status_history_time", "tenant_id", "created_at"),
    )

    lead_id: Mapped[int] = mapped_column(BigId, ForeignKey("leads.id", ondelete="CASCADE"))
    from_status: Mapped[LeadStatus | None] = mapped_column(str_enum(LeadStatus))
    to_status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus))
    changed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
