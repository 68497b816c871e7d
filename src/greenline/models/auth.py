from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from greenline.core.db import Base, BigId, IdMixin, utcnow


class AuthSession(IdMixin, Base):
    """One login: the family of rotating refresh tokens and the access tokens they mint."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(IdMixin, Base):
    """A refresh token, stored as a SHA-256 hash; used once, then replaced."""

    __tablename__ = "refresh_tokens"

    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
