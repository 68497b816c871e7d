"""WhatsApp error codes and what each means for retrying (from Meta's error-code reference).

One table decides, for every channel (the simulator answers with the same codes), whether a failed
send is retried with backoff, retried after a day, never retried, stops the sender number, or marks
its credentials invalid.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Retry(enum.StrEnum):
    backoff = "backoff"  # transient: retry with exponential backoff and jitter
    after_24h = "after_24h"  # per-user marketing cap: not before a day has passed
    never = "never"  # permanent for this message
    stop_number = "stop_number"  # the sender number is restricted or banned: stop all its sends
    reauth = "reauth"  # credentials invalid or expired: mark the number, alert


@dataclass(frozen=True)
class ErrorInfo:
    code: int
    title: str
    retry: Retry


_TABLE: dict[int, tuple[str, Retry]] = {
    130429: ("Rate limit hit (throughput)", Retry.backoff),
    131056: ("Pair rate limit hit", Retry.backoff),
    131048: ("Spam rate limit hit", Retry.stop_number),
    131049: ("Not delivered to maintain healthy ecosystem engagement", Retry.after_24h),
    131050: ("Recipient stopped marketing messages", Retry.never),
    131047: ("Re-engagement message: outside the 24-hour window", Retry.never),
    131026: ("Message undeliverable", Retry.never),
    131031: ("Account locked", Retry.stop_number),
    368: ("Temporarily blocked for policy violations", Retry.stop_number),
    190: ("Access token has expired", Retry.reauth),
    0: ("Authentication exception", Retry.reauth),
    4: ("Application request limit reached", Retry.backoff),
    80007: ("WABA rate limit reached", Retry.backoff),
    131057: ("Business account in maintenance mode", Retry.backoff),
    131000: ("Something went wrong", Retry.backoff),
    1: ("API unknown", Retry.backoff),
    2: ("API service unavailable", Retry.backoff),
    131016: ("Service unavailable", Retry.backoff),
    133004: ("Server temporarily unavailable", Retry.backoff),
    100: ("Invalid parameter", Retry.never),
    131008: ("Required parameter is missing", Retry.never),
    131009: ("Parameter value is not valid", Retry.never),
    131021: ("Recipient cannot be sender", Retry.never),
    131042: ("Business eligibility payment issue", Retry.never),
    131051: ("Unsupported message type", Retry.never),
    131053: ("Media upload error", Retry.never),
    131064: ("Messaging limit reached (template classification)", Retry.after_24h),
    130403: ("Business has blocked this user", Retry.never),
    130472: ("User's number is part of an experiment", Retry.never),
    133010: ("Phone number not registered", Retry.never),
    132015: ("Template paused", Retry.after_24h),
    132016: ("Template disabled", Retry.never),
}


def classify(code: int | str | None) -> ErrorInfo:
    """What to do about a provider error code; unknown 132xxx (template) codes never retry, other unknowns back off."""
    try:
        number = int(code) if code is not None else 131000
    except (TypeError, ValueError):
        number = 131000
    if number in _TABLE:
        title, retry = _TABLE[number]
        return ErrorInfo(number, title, retry)
    if 132000 <= number < 133000:
        return ErrorInfo(number, "Template error", Retry.never)
    return ErrorInfo(number, "Unknown error", Retry.backoff)


def pair_rate_backoff_seconds(attempt: int) -> float:
    """Meta's advice for 131056: retry after 4^X seconds, X = 0, 1, 2, ..."""
    return float(4 ** max(0, attempt))
