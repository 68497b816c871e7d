"""When a conversation's auto-reply should answer (pure logic, used by the inbound pipeline)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from greenline.conversations.schemas import WEEKDAYS, AutoReplySettings, BusinessHours


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def within_business_hours(hours: BusinessHours, at: dt.datetime) -> bool:
    """Whether `at` (timezone-aware) falls inside the opening hours, in the hours' own time zone.

    A span whose end is earlier than its start runs overnight and belongs to the day it opens.
    """
    local = at.astimezone(ZoneInfo(hours.timezone))
    now = local.hour * 60 + local.minute
    start, end = _minutes(hours.start), _minutes(hours.end)
    today = WEEKDAYS[local.weekday()]
    if start < end:
        return today in hours.days and start <= now < end
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    return (today in hours.days and now >= start) or (yesterday in hours.days and now < end)


def parse_settings(stored: dict[str, Any]) -> AutoReplySettings | None:
    """The settings stored on a conversation, or None when none (or no longer valid ones) are set."""
    if not stored:
        return None
    try:
        return AutoReplySettings.model_validate(stored)
    except ValidationError:
        return None


def auto_reply_text(stored: dict[str, Any], at: dt.datetime) -> str | None:
    """The text to send back for a message received at `at`, or None when auto-reply stays silent."""
    settings = parse_settings(stored)
    if settings is None or not settings.enabled or not settings.message:
        return None
    hours = settings.business_hours
    if settings.only_outside_hours and hours is not None and within_business_hours(hours, at):
        return None
    return settings.message
