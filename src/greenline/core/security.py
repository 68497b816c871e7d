"""Password hashing (argon2), signed access tokens (JWT) and opaque secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from greenline.config import Settings
from greenline.core.db import utcnow

_hasher = PasswordHasher()
# Verifying against this keeps timing equal when the account does not exist.
_DUMMY_HASH = _hasher.hash("greenline-timing-equaliser")


def configure_password_hashing(time_cost: int, memory_kib: int) -> None:
    """Set argon2 cost for new hashes; existing hashes verify with the cost they carry."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1 if memory_kib < 8192 else 4)
    _DUMMY_HASH = _hasher.hash("greenline-timing-equaliser")


ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in constant time whether or not the account exists."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    a_bytes = a.encode() if isinstance(a, str) else a
    b_bytes = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: int
    tenant_id: int | None


def create_access_token(settings: Settings, claims: AccessClaims) -> tuple[str, dt.datetime]:
    now = utcnow()
    expires = now + dt.timedelta(minutes=settings.access_token_minutes)
    payload: dict[str, Any] = {
        "sub": str(claims.user_id),
        "sid": claims.session_id,
        "tid": claims.tenant_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM), expires


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """Return the claims of a valid, unexpired access token, or None."""
    try:
        payload = jwt.decode(
            token, settings.secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid"]}
        )
    except jwt.PyJWTError:
        return None
    if payload.get("typ") != "access":
        return None
    try:
        tenant = payload.get("tid")
        return AccessClaims(int(payload["sub"]), int(payload["sid"]), int(tenant) if tenant is not None else None)
    except (TypeError, ValueError):
        return None
