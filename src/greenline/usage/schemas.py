from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


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
