from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, TenantMixin, TimestampMixin, utcnow
from greenline.models.contact import str_enum
from greenline.models.enums import ConversationStatus, Direction, MessageStatus


class Conversation(IdMixin, TenantMixin, TimestampMixin, Base):
    """An ongoing dialogue with one contact."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_tenant_last_message", "tenant_id", "last_message_at", "id"),
        Index("ix_conversations_tenant_contact", "tenant_id", "contact_id"),
        Index("ix_conversations_tenant_assigned", "tenant_id", "assigned_to"),
        # One active conversation per contact, even when two messages arrive at the same moment.
        Index(
            "uq_conversations_one_active",
            "tenant_id",
            "contact_id",
            unique=True,
            postgresql_where=text("status IN ('open', 'pending')"),
            sqlite_where=text("status IN ('open', 'pending')"),
        ),
    )

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[ConversationStatus] = mapped_column(str_enum(ConversationStatus), default=ConversationStatus.open)
    assigned_to: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # Sticky: a conversation stays on the number it started on.
    sender_number_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sender_numbers.id", ondelete="SET NULL"))
    subject: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[dt.datetime | None]
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    last_inbound_at: Mapped[dt.datetime | None]
    unread_count: Mapped[int] = mapped_column(default=0)
    auto_reply: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    archived_at: Mapped[dt.datetime | None]
    status_before_archive: Mapped[str | None] = mapped_column(String(16))


class ConversationNote(IdMixin, TenantMixin, Base):
    """An internal note on a conversation (never sent to the contact)."""

    __tablename__ = "conversation_notes"
    __table_args__ = (Index("ix_conversation_notes_conv", "tenant_id", "conversation_id"),)

    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Message(IdMixin, TenantMixin, Base):
    """One WhatsApp message in or out, with a timestamp for each status it reached."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_tenant_conversation", "tenant_id", "conversation_id", "id"),
        Index("ix_messages_tenant_contact", "tenant_id", "contact_id", "id"),
        Index("ix_messages_tenant_provider_id", "tenant_id", "provider_message_id"),
        Index("ix_messages_tenant_status", "tenant_id", "status"),
        # A provider redelivering an incoming message can never store it twice.
        Index(
            "uq_messages_inbound_provider_id",
            "tenant_id",
            "provider_message_id",
            unique=True,
            postgresql_where=text("direction = 'inbound' AND provider_message_id IS NOT NULL"),
            sqlite_where=text("direction = 'inbound' AND provider_message_id IS NOT NULL"),
        ),
        # Exactly one message per (campaign, step, contact): starting, resuming or retrying cannot add a second.
        Index(
            "uq_messages_campaign_step_contact",
            "tenant_id",
            "campaign_id",
            "campaign_step_id",
            "contact_id",
            unique=True,
            postgresql_where=text("campaign_id IS NOT NULL"),
            sqlite_where=text("campaign_id IS NOT NULL"),
        ),
        # The dispatcher's claim: due queued messages of one number, oldest first (only queued rows indexed).
        Index(
            "ix_messages_dispatch_due",
            "tenant_id",
            "sender_number_id",
            "next_attempt_at",
            "id",
            postgresql_where=text("status = 'queued' AND campaign_id IS NOT NULL"),
            sqlite_where=text("status = 'queued' AND campaign_id IS NOT NULL"),
        ),
        # Leases of messages handed to a provider: a row still `sending` after its lease is reconciled.
        Index(
            "ix_messages_sending",
            "tenant_id",
            "claimed_at",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
    )

    conversation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    sender_number_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sender_numbers.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="text")
    body: Mapped[str | None] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(String(1000))
    media_type: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus), default=MessageStatus.pending)
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    reply_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(String(500))
    sent_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    read_at: Mapped[dt.datetime | None]
    failed_at: Mapped[dt.datetime | None]
    received_at: Mapped[dt.datetime | None]
    # Campaign traffic: which campaign step sent it, retries, and when it may next be tried.
    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="SET NULL"))
    campaign_step_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("campaign_steps.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    claimed_at: Mapped[dt.datetime | None]  # when a dispatcher moved it to `sending` (its lease start)
    # Bit set of the milestones already counted in campaign_stats, so a counter moves once per message.
    tallied: Mapped[int] = mapped_column(default=0)


class Reply(IdMixin, TenantMixin, Base):
    """A contact's answer, with classification and sentiment (filled by the AI issue)."""

    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_tenant_message", "tenant_id", "message_id"),)

    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"))
    in_reply_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(32))
    sentiment_score: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
