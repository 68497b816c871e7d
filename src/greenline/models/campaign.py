"""Campaigns: broadcasts and drips, their steps, each contact's progress, templates and counters."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, JSONType, TenantMixin, TimestampMixin, utcnow
from greenline.models.contact import str_enum


class CampaignKind(enum.StrEnum):
    broadcast = "broadcast"  # one message to an audience
    drip = "drip"  # ordered steps with delays and conditions
    nurture = "nurture"  # drip preset: slow cadence, stops when the contact replies
    followup = "followup"  # drip preset: reminders to contacts who did not reply


DRIP_KINDS = frozenset({CampaignKind.drip, CampaignKind.nurture, CampaignKind.followup})


class CampaignStatus(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    running = "running"
    paused = "paused"
    completed = "completed"
    stopped = "stopped"


class EnrollmentStatus(enum.StrEnum):
    active = "active"  # waiting for its next step
    completed = "completed"  # every step sent (or skipped by its condition)
    exited = "exited"  # left early: opted out, replied (nurture), removed, campaign stopped


class Campaign(IdMixin, TenantMixin, TimestampMixin, Base):
    """A broadcast or drip: who gets it (audience), on which numbers, when, and how paced."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_tenant_status", "tenant_id", "status", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind))
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus), default=CampaignStatus.draft)
    status_reason: Mapped[str | None] = mapped_column(String(300))  # why it paused (auto-pause) or stopped
    # {"segment_id": 1} | {"tags": ["vip"]} | {"filter": {...segment rules...}} | {"contact_ids": [...]} | {}
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sender_number_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    rotation: Mapped[str] = mapped_column(String(16), default="round_robin")  # or least_loaded
    template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message_templates.id", ondelete="SET NULL"))
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)  # campaign-level template variables
    # Pacing and safety: frequency cap, auto-pause thresholds, quiet hours, retries (see campaigns/settings.py).
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Drips: enrol automatically on {"event": "contact.created"} or {"event": "tag.added", "tag": "x"}.
    trigger: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scheduled_at: Mapped[dt.datetime | None]
    schedule_timezone: Mapped[str | None] = mapped_column(String(64))
    # When true the schedule's wall-clock time applies in each contact's own time zone.
    schedule_per_contact: Mapped[bool] = mapped_column(default=False)
    audience_size: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[dt.datetime | None]
    paused_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))


class CampaignStep(IdMixin, TenantMixin, Base):
    """One message of a campaign; a broadcast has exactly one, a drip several in `position` order."""

    __tablename__ = "campaign_steps"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", "position"),)

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # Jinja2 + spintax source
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text / image / document / video / audio
    media_url: Mapped[str | None] = mapped_column(String(1000))
    # Approved Cloud API template for business-initiated sends: {"name", "language", "parameters": [...]}.
    cloud_template: Mapped[dict[str, Any]] = mapped_column(default=dict)
    delay_value: Mapped[int] = mapped_column(default=0)
    delay_unit: Mapped[str] = mapped_column(String(8), default="minutes")  # minutes / hours / days / weeks
    delay_from: Mapped[str] = mapped_column(String(16), default="previous_step")  # or enrollment
    # {"type": "previous_read" | "previous_not_read" | "not_replied" | "replied" | "has_tag" | "lacks_tag", "tag": ...}
    condition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CampaignEnrollment(IdMixin, TenantMixin, Base):
    """A contact's progress through a campaign (the seed's `contact_campaign_progress`)."""

    __tablename__ = "contact_campaign_progress"
    __table_args__ = (
        UniqueConstraint("tenant_id", "campaign_id", "contact_id"),
        Index("ix_progress_due", "tenant_id", "campaign_id", "status", "next_step_at"),
        Index("ix_progress_contact", "tenant_id", "contact_id"),
    )

    # Tenant-owned like every table, but without a foreign key and index of its own: the campaign's cascade
    # already removes these rows with their tenant, and the unique key leads with tenant_id. Starting a
    # campaign enrols 100,000 contacts in one INSERT, where each per-row key check costs ~10 % of it.
    tenant_id: Mapped[int] = mapped_column(BigId)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[EnrollmentStatus] = mapped_column(str_enum(EnrollmentStatus), default=EnrollmentStatus.active)
    current_step: Mapped[int] = mapped_column(default=0)  # position of the last step handled; 0 = none yet
    next_step_at: Mapped[dt.datetime | None]
    # Sticky: every step goes out on the same number, so the conversation stays on one number.
    sender_number_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sender_numbers.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="audience")  # audience / manual / segment / trigger
    enrolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_step_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    exit_reason: Mapped[str | None] = mapped_column(String(64))


class CampaignStat(IdMixin, TenantMixin, Base):
    """Running counters of one campaign step, incremented as messages move (never recomputed by a scan)."""

    __tablename__ = "campaign_stats"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", "step_id"),)

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaign_steps.id", ondelete="CASCADE"))
    queued: Mapped[int] = mapped_column(default=0)
    sent: Mapped[int] = mapped_column(default=0)
    delivered: Mapped[int] = mapped_column(default=0)
    read: Mapped[int] = mapped_column(default=0)
    replied: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    opted_out: Mapped[int] = mapped_column(default=0)
    unknown: Mapped[int] = mapped_column(default=0)
    converted: Mapped[int] = mapped_column(default=0)
    retried: Mapped[int] = mapped_column(default=0)


class CampaignErrorCount(IdMixin, TenantMixin, Base):
    """How many messages of a campaign step failed or were skipped with each code."""

    __tablename__ = "campaign_error_counts"
    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", "step_id", "code"),)

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    step_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaign_steps.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(default=0)


class MessageTemplate(IdMixin, TenantMixin, TimestampMixin, Base):
    """A reusable message with variables; optionally bound to an approved WhatsApp template."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(16), default="marketing")  # marketing / utility / authentication
    language: Mapped[str] = mapped_column(String(16), default="en")
    variables: Mapped[list[str]] = mapped_column(default=list)
    cloud_template: Mapped[dict[str, Any]] = mapped_column(default=dict)
