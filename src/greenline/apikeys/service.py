"""Tenant API keys: minted once, stored as SHA-256, scoped, rate limited, revocable."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.apikeys.schemas import ApiKeyCreate
from greenline.core.db import unscoped, utcnow
from greenline.core.errors import NotFound, TooManyRequests, Unauthorized
from greenline.core.principal import Principal
from greenline.core.runtime import Runtime
from greenline.core.security import sha256_hex
from greenline.models import ApiKey

KEY_PREFIX = "gl_"
_LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def looks_like_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def create_api_key(
    session: Session, runtime: Runtime, tenant_id: int, principal: Principal, data: ApiKeyCreate
) -> tuple[ApiKey, str]:
    """Mint a key; the returned secret is never stored and cannot be shown again."""
    public = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        tenant_id=tenant_id,
        name=data.name,
        prefix=f"{KEY_PREFIX}{public}",
        key_hash=sha256_hex(raw),
        scopes=[str(scope) for scope in data.scopes],
        rate_limit=data.rate_limit or runtime.settings.api_key_default_rate_limit,
        created_by=principal.user_id,
        expires_at=data.expires_at,
    )
    session.add(key)
    session.flush()
    return key, raw


def list_api_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def get_api_key(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found")
    return key


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    key = get_api_key(session, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    return key


def authenticate_api_key(session: Session, runtime: Runtime, raw: str) -> ApiKey:
    """Resolve a presented key, enforcing revocation, expiry and its per-minute rate limit."""
    with unscoped(session):
        key = session.scalar(select(ApiKey).where(ApiKey.key_hash == sha256_hex(raw)))
    now = utcnow()
    if key is None:
        raise Unauthorized("invalid API key", code="invalid_api_key")
    if key.revoked_at is not None:
        raise Unauthorized("API key has been revoked", code="invalid_api_key")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized("API key has expired", code="invalid_api_key")
    count, ttl = runtime.counters.hit(f"apikey:{key.id}", 60)
    if count > key.rate_limit:
        raise TooManyRequests(f"API key rate limit of {key.rate_limit} requests per minute exceeded", ttl)
    if key.last_used is None or now - key.last_used > _LAST_USED_RESOLUTION:
        # Written at most once a minute per key, so the hot path stays read-only.
        key.last_used = now
    return key
