"""The home page's campaign KPIs for one tenant: campaign counts, funnel totals and today's sends.

Funnel totals come from the incremental `campaign_stats` counters (one aggregate over a few rows per
campaign), never from a scan of messages. "Sent today" is the one figure that must look at messages:
it counts outbound messages whose `sent_at` falls in the tenant's current local day.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenline.campaigns import pacing, stats
from greenline.core.db import session_tenant, utcnow
from greenline.models import Campaign, CampaignStat, Message, Tenant
from greenline.models.campaign import CampaignStatus
from greenline.models.enums import Direction

FUNNEL = ("sent", "delivered", "read", "replied", "failed", "opted_out")


class CampaignCounts(BaseModel):
    running: int = 0
    scheduled: int = 0
    paused: int = 0


class FunnelTotals(BaseModel):
    sent: int = 0
    delivered: int = 0
    read: int = 0
    replied: int = 0
    failed: int = 0
    opted_out: int = 0


class OverviewRates(BaseModel):
    delivery_rate: float | None = Field(description="delivered / sent")
    read_rate: float | None = Field(description="read / delivered")
    response_rate: float | None = Field(description="replied / delivered")


class CampaignOverview(BaseModel):
    campaigns: CampaignCounts
    totals: FunnelTotals = Field(description="Summed over every campaign of the tenant")
    rates: OverviewRates
    messages_sent_today: int = Field(description="Outbound messages sent since midnight in the tenant's time zone")
    today_start: dt.datetime = Field(description="That midnight, in UTC")
    timezone: str


def _local_midnight(session: Session, now: dt.datetime) -> tuple[dt.datetime, str]:
    tenant = session.get(Tenant, session_tenant(session))
    name = (tenant.settings or {}).get("timezone") if tenant else None
    zone = pacing.zone(name if isinstance(name, str) else None)
    local = now.astimezone(zone)
    midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
    return midnight.astimezone(dt.UTC), zone.key


def overview(session: Session, now: dt.datetime | None = None) -> CampaignOverview:
    """KPIs of the session's tenant (the session is tenant-scoped, so no other tenant's row is read).

    `now` is the engine's clock (simulated in demos), which decides which local day is "today".
    """
    now = now or utcnow()
    live = (CampaignStatus.running, CampaignStatus.scheduled, CampaignStatus.paused)
    by_status = dict(
        session.execute(
            select(Campaign.status, func.count()).where(Campaign.status.in_(live)).group_by(Campaign.status)
        ).all()
    )
    row = session.execute(select(*(func.coalesce(func.sum(getattr(CampaignStat, n)), 0) for n in stats.COUNTERS))).one()
    counts = {name: int(value) for name, value in zip(stats.COUNTERS, row, strict=True)}
    rates = stats.rates(counts)
    start, zone = _local_midnight(session, now)
    sent_today = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.direction == Direction.outbound,
            Message.sent_at >= start,
        )
    )
    return CampaignOverview(
        campaigns=CampaignCounts(**{str(CampaignStatus(s).value): int(n) for s, n in by_status.items()}),
        totals=FunnelTotals(**{name: counts[name] for name in FUNNEL}),
        rates=OverviewRates(
            delivery_rate=rates["delivery_rate"], read_rate=rates["read_rate"], response_rate=rates["response_rate"]
        ),
        messages_sent_today=int(sent_today or 0),
        today_start=start,
        timezone=zone,
    )
