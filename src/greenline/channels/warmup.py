"""Warm-up: how many messages a new number may send on each day of its first two weeks.

The seed's ramp: 20 messages on day 1 to 1,000 on day 14, geometric in between (each day about 35 %
more than the last), then the number's own caps. New numbers that send in bursts are the first to
lose quality and get restricted, so the dispatcher never exceeds this allowance.
"""

from __future__ import annotations

import datetime as dt

START_PER_DAY = 20
END_PER_DAY = 1000
RAMP_DAYS = 14


def warmup_day(started_at: dt.datetime | None, now: dt.datetime) -> int | None:
    """1-based day of the warm-up, or None once it is over (or never started)."""
    if started_at is None:
        return None
    day = (now - started_at).days + 1
    return day if 1 <= day <= RAMP_DAYS else None


def daily_allowance(day: int, start: int = START_PER_DAY, end: int = END_PER_DAY, days: int = RAMP_DAYS) -> int:
    """Messages allowed on warm-up day `day` (1..days)."""
    day = max(1, min(day, days))
    if days == 1:
        return end
    return int(start * (end / start) ** ((day - 1) / (days - 1)) + 0.5)


def allowance_now(
    started_at: dt.datetime | None, now: dt.datetime, *, enabled: bool = True, daily_cap: int | None = None
) -> int | None:
    """Today's limit from warm-up and the number's daily cap (None = unlimited)."""
    limits = [c for c in (daily_cap,) if c is not None]
    day = warmup_day(started_at, now) if enabled else None
    if day is not None:
        limits.append(daily_allowance(day))
    return min(limits) if limits else None


def schedule(days: int = RAMP_DAYS) -> list[int]:
    return [daily_allowance(d, days=days) for d in range(1, days + 1)]
