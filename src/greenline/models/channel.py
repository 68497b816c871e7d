from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow
from greenline.models.contact import str_enum


class ChannelType(enum.StrEnum):
    simulator = "simulator"
    cloud = "cloud"
    baileys = "baileys"


class SenderStatus(enum.StrEnum):
    connecting = "connecting"
    qr = "qr"  # linked device waiting for a scan
    connected = "connected"
    logged_out = "logged_out"
    restricted = "restricted"
    banned = "banned"
    invalid_credentials = "invalid_credentials"


class QualityRating(enum.StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"
    unknown = "unknown"


class SenderNumber(IdMixin, TenantMixin, TimestampMixin, Base):
    """A tenant's WhatsApp number ("WhatsApp account"), bound to one channel."""

    __tablename__ = "sender_numbers"
    __table_args__ = (
        # Webhooks are routed to a tenant by the provider's id of the number, so it is globally unique.
        UniqueConstraint("channel", "provider_id"),
        UniqueConstraint("tenant_id", "display_number"),
    )

    display_number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[ChannelType] = mapped_column(str_enum(ChannelType))
    provider_id: Mapped[str] = mapped_column(String(128))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SenderStatus] = mapped_column(str_enum(SenderStatus, 24), default=SenderStatus.connecting)
    status_reason: Mapped[str | None] = mapped_column(String(300))
    quality_rating: Mapped[QualityRating] = mapped_column(str_enum(QualityRating), default=QualityRating.unknown)
    messaging_limit: Mapped[int | None] = mapped_column(default=250)  # unique users / 24 h; None = unlimited
    throughput_mps: Mapped[int] = mapped_column(default=80)
    is_default: Mapped[bool] = mapped_column(default=False)
    warmup_started_at: Mapped[dt.datetime | None]
    warmup_enabled: Mapped[bool] = mapped_column(default=True)
    daily_cap: Mapped[int | None]
    hourly_cap: Mapped[int | None]
    min_gap_seconds: Mapped[float] = mapped_column(default=0.0)
    quiet_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_event_at: Mapped[dt.datetime | None]


class InboundEvent(IdMixin, Base):
    """A provider webhook or gateway event, stored before it is acknowledged and processed later.

    Platform-level (not tenant-owned): the tenant is only known after parsing, and one Cloud API
    delivery may carry several numbers.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel", "dedupe_key"),
        Index("ix_inbound_events_unprocessed", "processed_at", "id"),
    )

    channel: Mapped[ChannelType] = mapped_column(str_enum(ChannelType))
    dedupe_key: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)


class UnmatchedStatus(IdMixin, TenantMixin, Base):
    """A status for a provider message id we do not know (yet): kept for reconciliation, never dropped."""

    __tablename__ = "unmatched_statuses"
    __table_args__ = (
        Index("ix_unmatched_statuses_provider_id", "tenant_id", "provider_message_id"),
        Index("ix_unmatched_statuses_client_ref", "tenant_id", "client_ref"),
    )

    sender_number_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sender_numbers.id", ondelete="SET NULL"))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    # Our message id as the provider echoed it: lets a message whose send outcome we lost adopt the status.
    client_ref: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[dt.datetime]
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]


class WebhookEndpoint(IdMixin, TenantMixin, TimestampMixin, Base):
    """A tenant's URL that receives signed event notifications."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[str]] = mapped_column(default=list)
    is_active: Mapped[bool] = mapped_column(default=True)


class WebhookDelivery(IdMixin, TenantMixin, Base):
    """One event for one endpoint, retried with backoff until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_tenant", "tenant_id", "id"),
    )

    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/delivered/failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]


class WebhookAttempt(IdMixin, TenantMixin, Base):
    """Every HTTP attempt of a delivery, for the delivery log."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "tenant_id", "delivery_id"),)

    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
