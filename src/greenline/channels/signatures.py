"""Meta webhook security: the `X-Hub-Signature-256` HMAC and the `hub.*` subscription handshake.

Both checks fail closed: a missing, malformed or empty input never verifies, and secrets are compared
in constant time so the response time does not leak how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# Meta's challenge is an integer; anything else is refused so the echo cannot carry markup.
_CHALLENGE = re.compile(r"[0-9A-Za-z._-]{1,128}")


def sign_meta(app_secret: str, raw_body: bytes) -> str:
    """The `X-Hub-Signature-256` header value Meta would send for `raw_body`."""
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_meta_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Whether `header` ("sha256=<hex>") is the HMAC-SHA256 of the raw request bytes under `app_secret`."""
    if not app_secret or not header:
        return False
    value = header.strip()
    if value[: len(_PREFIX)].lower() != _PREFIX:
        return False
    received = value[len(_PREFIX) :].lower()
    if not _HEX_DIGEST.fullmatch(received):
        return False
    expected = sign_meta(app_secret, raw_body)[len(_PREFIX) :]
    return hmac.compare_digest(expected, received)


def verify_subscription(params: Mapping[str, str], expected_token: str) -> str | None:
    """The challenge to echo when Meta's `hub.mode=subscribe` handshake carries our verify token, else None."""
    if not expected_token or params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token")
    challenge = params.get("hub.challenge")
    if not token or not challenge or not _CHALLENGE.fullmatch(challenge):
        return None
    if not hmac.compare_digest(token.encode(), expected_token.encode()):
        return None
    return challenge
