from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, UniqueConstraint
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
