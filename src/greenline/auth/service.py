"""Logins, rotating refresh tokens, logout and throttling of failed attempts."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from greenline.auth.schemas import TokenPair
from greenline.core.db import utcnow
from greenline.core.errors import NotFound, TooManyRequests, Unauthorized
from greenline.core.runtime import Runtime
from greenline.core.security import (
    AccessClaims,
    create_access_token,
    random_token,
    sha256_hex,
    verify_password,
)
from greenline.models import AuthSession, RefreshToken, User
from greenline.tenants import service as tenants

log = structlog.get_logger(__name__)


class RefreshReuse(Unauthorized):
    """A rotated refresh token came back: the family is revoked and the revocation must persist."""

    keep_changes = True


def _account_key(email: str) -> str:
    return "login:acct:" + sha256_hex(email.lower())[:24]


def _ip_key(ip: str) -> str:
    return "login:ip:" + ip


def _check_throttle(runtime: Runtime, email: str, ip: str) -> None:
    settings = runtime.settings
    for key, limit in (
        (_account_key(email), settings.login_max_failures_per_account),
        (_ip_key(ip), settings.login_max_failures_per_ip),
    ):
        count, ttl = runtime.counters.peek(key)
        if count >= limit:
            raise TooManyRequests("too many failed logins; try again later", retry_after=ttl)


def _record_failure(runtime: Runtime, email: str, ip: str) -> None:
    window = runtime.settings.login_failure_window_seconds
    runtime.counters.hit(_account_key(email), window)
    runtime.counters.hit(_ip_key(ip), window)


def _choose_tenant(session: Session, user: User, requested: int | None) -> int | None:
    if requested is None:
        return tenants.default_tenant_id(session, user.id)
    if tenants.membership_role(session, user.id, requested) is not None:
        return requested
    if user.is_superadmin and tenants.get_tenant_unscoped(session, requested) is not None:
        return requested
    raise NotFound("tenant not found", details=[{"field": "tenant_id", "problem": "not a tenant of this user"}])


def _issue(session: Session, runtime: Runtime, auth: AuthSession, tenant_id: int | None) -> TokenPair:
    settings = runtime.settings
    raw = random_token(48)
    lifetime = dt.timedelta(days=settings.refresh_token_days)
    session.add(RefreshToken(session_id=auth.id, token_hash=sha256_hex(raw), expires_at=utcnow() + lifetime))
    access, expires = create_access_token(settings, AccessClaims(auth.user_id, auth.id, tenant_id))
    return TokenPair(
        access_token=access,
        expires_in=int((expires - utcnow()).total_seconds()),
        refresh_token=raw,
        refresh_expires_in=int(lifetime.total_seconds()),
        tenant_id=tenant_id,
    )


def login(
    session: Session,
    runtime: Runtime,
    *,
    email: str,
    password: str,
    ip: str,
    user_agent: str | None,
    tenant_id: int | None = None,
) -> TokenPair:
    """Check credentials (throttled per account and per IP) and open a session."""
    email = email.strip().lower()
    _check_throttle(runtime, email, ip)
    user = session.scalar(select(User).where(User.email == email))
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.is_active:
        _record_failure(runtime, email, ip)
        log.info("auth.login_failed", ip=ip)
        raise Unauthorized("incorrect email or password", code="invalid_credentials")
    runtime.counters.reset(_account_key(email))
    chosen = _choose_tenant(session, user, tenant_id)
    auth = AuthSession(user_id=user.id, ip=ip[:64], user_agent=(user_agent or "")[:300] or None)
    session.add(auth)
    session.flush()
    log.info("auth.login", user_id=user.id, session_id=auth.id)
    return _issue(session, runtime, auth, chosen)


def refresh(session: Session, runtime: Runtime, raw_token: str, tenant_id: int | None) -> TokenPair:
    """Rotate a refresh token; a token presented twice revokes its whole family."""
    now = utcnow()
    found = session.execute(
        select(RefreshToken, AuthSession, User)
        .join(AuthSession, AuthSession.id == RefreshToken.session_id)
        .join(User, User.id == AuthSession.user_id)
        .where(RefreshToken.token_hash == sha256_hex(raw_token))
    ).first()
    if found is None:
        raise Unauthorized("invalid refresh token", code="invalid_token")
    token, auth, user = found
    if auth.revoked_at is not None or not user.is_active:
        raise Unauthorized("session has been revoked", code="invalid_token")
    if token.used_at is not None:
        auth.revoked_at, auth.revoked_reason = now, "refresh_reuse"
        log.warning("auth.refresh_reuse", session_id=auth.id, user_id=user.id)
        raise RefreshReuse("refresh token was already used; the session is revoked", code="invalid_token")
    if token.expires_at <= now:
        raise Unauthorized("refresh token has expired", code="invalid_token")
    # Claim the token atomically so two concurrent refreshes cannot both succeed.
    claimed = session.execute(
        update(RefreshToken).where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Unauthorized("refresh token was already used", code="invalid_token")
    chosen = _choose_tenant(session, user, tenant_id)
    return _issue(session, runtime, auth, chosen)


def logout(session: Session, session_id: int, raw_refresh: str | None) -> None:
    """Revoke the current session (and with it every token of its family)."""
    auth = session.get(AuthSession, session_id)
    if raw_refresh:
        token = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(raw_refresh)))
        if token is not None and token.session_id != session_id:
            raise Unauthorized("refresh token does not belong to this session", code="invalid_token")
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at, auth.revoked_reason = utcnow(), "logout"
