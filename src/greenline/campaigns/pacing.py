"""How much a sender number may send right now: warm-up, daily and hourly caps, throughput, quiet hours.

Budgets are taken from shared counters (Redis in scale mode), so caps hold however many dispatchers
work on one number. A dispatcher asks for a batch, gets what every limit allows, and hands back what it
could not use. The day's counter is rebuilt from the messages table when it is missing (a restart, an
evicted key), so a restart never grants a fresh day. A number's sending days start at the time of day
its warm-up began, so day N of the ramp is exactly one counter.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenline.channels.warmup import allowance_now
from greenline.core.counters import Counters
from greenline.models import Message, SenderNumber
from greenline.models.enums import MessageStatus

DAY_S = 86_400
HOUR_S = 3_600
# Statuses that used up budget (everything a dispatcher claimed, whatever happened next).
_SPENT = (
    MessageStatus.sending,
    MessageStatus.sent,
    MessageStatus.delivered,
    MessageStatus.read,
    MessageStatus.failed,
    MessageStatus.unknown,
)


@dataclass(frozen=True)
class Limits:
    per_second: int | None
    per_hour: int | None
    per_day: int | None


@dataclass(frozen=True)
class Grant:
    count: int
    wait_seconds: float  # simulated seconds until any budget frees up, when count is 0
    reason: str | None = None  # which limit held it back


def limits_for(sender: SenderNumber, now: dt.datetime, *, pacing: bool = True) -> Limits:
    if not pacing:
        return Limits(None, None, None)
    day = allowance_now(sender.warmup_started_at, now, enabled=sender.warmup_enabled, daily_cap=sender.daily_cap)
    return Limits(max(1, sender.throughput_mps), sender.hourly_cap, day)


def day_anchor(sender: SenderNumber) -> dt.datetime:
    """Where the number's sending days begin: its warm-up start, so day N of the ramp is one counter."""
    anchor = sender.warmup_started_at or sender.created_at
    return anchor if anchor is not None else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def sending_day(sender: SenderNumber, now: dt.datetime) -> tuple[int, dt.datetime]:
    """The index of the number's current sending day and when that day began."""
    anchor = day_anchor(sender)
    index = int((now - anchor).total_seconds() // DAY_S)
    return index, anchor + dt.timedelta(days=index)


def used_today(session: Session, sender: SenderNumber, now: dt.datetime) -> int:
    """Campaign messages the number has been given in its current sending day, from the database."""
    count = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.sender_number_id == sender.id,
            Message.campaign_id.is_not(None),
            Message.claimed_at >= sending_day(sender, now)[1],
            Message.status.in_(_SPENT),
        )
    )
    return int(count or 0)


class Pacer:
    """Takes and returns budget for one sender number from shared counters."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    def _keys(self, sender: SenderNumber, now: dt.datetime) -> tuple[tuple[str, int], tuple[str, int], tuple[str, int]]:
        t = int(now.timestamp())
        day = sending_day(sender, now)[0]
        return (
            (f"pace:s:{sender.id}:{t}", 2),
            (f"pace:h:{sender.id}:{t // HOUR_S}", HOUR_S + 60),
            (f"pace:d:{sender.id}:{day}", DAY_S + 600),
        )

    def ensure_day_counter(self, session: Session, sender: SenderNumber, now: dt.datetime) -> None:
        """Seed the current day's counter from the database once, if it is missing."""
        key, window = self._keys(sender, now)[2]
        if self.counters.peek(key)[1] > 0:
            return
        marker, _ = self.counters.hit(f"{key}:seeded", window)
        if marker == 1:
            used = used_today(session, sender, now)
            self.counters.hit(key, window, used)

    def take(self, sender: SenderNumber, limits: Limits, want: int, now: dt.datetime) -> Grant:
        if want <= 0:
            return Grant(0, 0.0)
        keys = self._keys(sender, now)
        granted, taken, reason = want, [], None
        for (key, window), limit, name in zip(
            keys, (limits.per_second, limits.per_hour, limits.per_day), ("throughput", "hourly_cap", "daily_cap"),
            strict=True,
        ):  # fmt: skip
            if limit is None:
                continue
            count, _ = self.counters.hit(key, window, granted)
            allowed = max(0, min(granted, limit - (count - granted)))
            taken.append((key, window, granted))
            if allowed < granted:
                reason = name
            granted = allowed
            if granted == 0:
                break
        # Give back what a tighter limit refused, to every counter that took it.
        for key, window, amount in taken:
            if amount > granted:
                self.counters.hit(key, window, granted - amount)
        if granted:
            return Grant(granted, 0.0)
        t = now.timestamp()
        next_day = sending_day(sender, now)[1] + dt.timedelta(days=1)
        wait = {
            "throughput": math.ceil(t) - t or 1.0,
            "hourly_cap": HOUR_S - (t % HOUR_S),
            "daily_cap": (next_day - now).total_seconds(),
        }[reason or "throughput"]
        return Grant(0, wait, reason)

    def give_back(self, sender: SenderNumber, limits: Limits, amount: int, now: dt.datetime) -> None:
        """Return budget taken for messages that were not sent after all (nothing due, quiet hours)."""
        if amount <= 0:
            return
        for (key, window), limit in zip(
            self._keys(sender, now), (limits.per_second, limits.per_hour, limits.per_day), strict=True
        ):
            if limit is not None:
                self.counters.hit(key, window, -amount)


# --- quiet hours ----------------------------------------------------------------


def zone(name: str | None, fallback: str | None = None) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _parse_hhmm(value: str) -> dt.time:
    hours, minutes = value.split(":", 1)
    return dt.time(int(hours), int(minutes))


def quiet_until(quiet_hours: dict[str, object], tz: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """End of the quiet period (UTC) if `now` falls in it in time zone `tz`, else None.

    `quiet_hours` is {"start": "21:00", "end": "08:00"}; a window may wrap past midnight.
    """
    start_s, end_s = quiet_hours.get("start"), quiet_hours.get("end")
    if not isinstance(start_s, str) or not isinstance(end_s, str) or start_s == end_s:
        return None
    start, end = _parse_hhmm(start_s), _parse_hhmm(end_s)
    local = now.astimezone(tz)
    t = local.time()
    wraps = start > end
    inside = (t >= start or t < end) if wraps else (start <= t < end)
    if not inside:
        return None
    end_day = local.date() + dt.timedelta(days=1) if wraps and t >= start else local.date()
    return dt.datetime.combine(end_day, end, tzinfo=tz).astimezone(dt.UTC)


# --- projections ---------------------------------------------------------------


def project_finish(
    remaining_by_sender: dict[int, int], senders: dict[int, SenderNumber], now: dt.datetime, *, pacing: bool = True
) -> dt.datetime | None:
    """When the queued messages will have gone out if each number sends at its allowed pace.

    Each day a number sends up to its warm-up allowance or daily cap (what it already sent today
    is not known here, so today counts in full); within a day at its throughput. None when nothing is left.
    """
    finish: dt.datetime | None = None
    for sender_id, remaining in remaining_by_sender.items():
        sender = senders.get(sender_id)
        if remaining <= 0 or sender is None:
            continue
        day, at = 0, now
        while remaining > 0 and day < 3650:
            day_now = now + dt.timedelta(days=day)
            limits = limits_for(sender, day_now, pacing=pacing)
            per_day = limits.per_day if limits.per_day is not None else remaining
            if limits.per_hour is not None:
                per_day = min(per_day, limits.per_hour * 24)
            today = min(remaining, per_day)
            rate: float = limits.per_second or 1000
            if limits.per_hour is not None:
                rate = min(rate, limits.per_hour / HOUR_S)
            start = day_now if day == 0 else sending_day(sender, day_now)[1]
            at = start + dt.timedelta(seconds=today / rate)
            remaining -= today
            day += 1
        finish = at if finish is None or at > finish else finish
    return finish
