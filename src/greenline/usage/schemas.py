from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from greenline.tenants.plans import PlanLimits


class UsageDay(BaseModel):
    date: dt.date
    api_calls: int = 0
    messages_sent: int = 0


class UsageStats(BaseModel):
    tenant_id: int
    start: dt.date
    end: dt.date
    days: list[UsageDay]
    total_api_calls: int
    total_messages_sent: int


class MonthUsage(BaseModel):
    """Counts or quotas of one calendar month (UTC); in `remaining`, null means unlimited."""

    api_calls: int | None
    messages: int | None


class UsageVsPlan(UsageStats):
    plan: str = Field(description="The tenant's plan")
    limits: PlanLimits = Field(description="The plan's monthly quotas (null = unlimited)")
    month_start: dt.date = Field(description="First day (UTC) of the current month")
    used_this_month: MonthUsage
    remaining: MonthUsage = Field(description="Quota left this month, never below 0; null = unlimited")
