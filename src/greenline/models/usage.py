from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, IdMixin, TenantMixin, utcnow


class UsageRecord(IdMixin, TenantMixin, Base):
    """Per tenant per day counters, flushed in batches from memory or Redis."""

    __tablename__ = "usage_records"
    __table_args__ = (UniqueConstraint("tenant_id", "date"),)

    date: Mapped[dt.date]
    api_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    messages_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SharedCounter(Base):
    """An expiring counter shared by every process on one PostgreSQL database (core/counters.py).

    Rate limits, login throttling and send pacing when there is no Redis. UNLOGGED on PostgreSQL
    (migration 0007): like Redis without persistence, the windows are lost on a crash, not the data.
    """

    __tablename__ = "shared_counters"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class PendingCount(Base):
    """Usage counted by some process and not yet flushed to `usage_records` (core/counters.py)."""

    __tablename__ = "pending_counts"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
