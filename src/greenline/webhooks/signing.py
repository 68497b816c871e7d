"""Signing of webhook requests: `X-Greenline-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

The same scheme as the gateway contract (docs/gateway-contract.md); docs/webhooks.md shows tenants
how to verify it. The HMAC key is the whole secret string (`whsec_...`) as UTF-8.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Greenline-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def generate_secret() -> str:
    """A new endpoint signing secret: `whsec_` and 32 random bytes in hex."""
    return SECRET_PREFIX + secrets.token_hex(32)


def _digest(secret: str, timestamp: int, raw_body: bytes) -> str:
    message = str(timestamp).encode() + b"." + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, raw_body: bytes, timestamp: int) -> str:
    """The `X-Greenline-Signature` value for `raw_body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, raw_body)}"


def _parse(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str,
    header: str | None,
    raw_body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """True when `header` signs `raw_body` with `secret` and its timestamp is within `tolerance` seconds.

    A stale or future timestamp is refused, so a captured request cannot be replayed later.
    """
    if not header:
        return False
    timestamp, signatures = _parse(header)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, raw_body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
