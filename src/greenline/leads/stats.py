"""Pipeline and conversion statistics, computed in the database (grouped counts, never rows)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from greenline.core.db import utcnow
from greenline.core.errors import InvalidInput
from greenline.core.principal import Principal
from greenline.leads.repository import CLOSED_STAGES
from greenline.leads.schemas import ConversionStats, PipelineStats, StageConversion, StageStats
from greenline.models import Lead, LeadStatusChange
from greenline.models.enums import LEAD_PIPELINE, LeadStatus

STAGES: tuple[LeadStatus, ...] = (*LEAD_PIPELINE, LeadStatus.lost)
DEFAULT_RANGE = dt.timedelta(days=30)
MAX_RANGE = dt.timedelta(days=731)
CENT = Decimal("0.01")


def rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals; None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def pipeline_stats(session: Session, principal: Principal) -> PipelineStats:
    """Count and value of leads per stage (all six), totals, and the win rate."""
    stmt = select(Lead.status, Lead.currency, func.count(), func.sum(Lead.value)).group_by(Lead.status, Lead.currency)
    if principal.assigned_only:
        stmt = stmt.where(Lead.assigned_to == principal.user_id)
    counts = dict.fromkeys(STAGES, 0)
    by_currency: dict[LeadStatus, dict[str, Decimal]] = {stage: {} for stage in STAGES}
    for status, currency, count, total in session.execute(stmt):
        counts[status] += count
        by_currency[status][currency] = by_currency[status].get(currency, Decimal(0)) + _money(total)
    stages = [
        StageStats(
            status=stage,
            count=counts[stage],
            total_value=_money(sum(by_currency[stage].values())),
            value_by_currency=dict(sorted(by_currency[stage].items())),
        )
        for stage in STAGES
    ]
    open_stages = [s for s in stages if s.status not in CLOSED_STAGES]
    won, lost = counts[LeadStatus.won], counts[LeadStatus.lost]
    return PipelineStats(
        stages=stages,
        total_count=sum(s.count for s in stages),
        total_value=_money(sum(s.total_value for s in stages)),
        open_count=sum(s.count for s in open_stages),
        open_value=_money(sum(s.total_value for s in open_stages)),
        won_count=won,
        lost_count=lost,
        win_rate=rate(won, won + lost),
    )


def conversion_range(start: dt.datetime | None, end: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """The validated [start, end) range: by default the last 30 days."""
    end = end or utcnow()
    start = start or end - DEFAULT_RANGE
    if start >= end:
        raise InvalidInput("start", "must be before end")
    if end - start > MAX_RANGE:
        raise InvalidInput("start", f"range is limited to {MAX_RANGE.days} days")
    return start, end


def _pipeline_rank(status: Any) -> ColumnElement[Any]:
    """A stage's position in the pipeline; lost has none, so it never counts as progress."""
    return case(*((status == stage, position) for position, stage in enumerate(LEAD_PIPELINE)), else_=None)


def conversion_stats(
    session: Session, principal: Principal, start: dt.datetime | None, end: dt.datetime | None
) -> ConversionStats:
    """Of the leads that entered each stage in [start, end), how many later reached the next stage (or beyond).

    Reaching a later stage counts as passing the ones skipped; outcomes are counted up to now.
    """
    start, end = conversion_range(start, end)
    entry = aliased(LeadStatusChange)
    later = aliased(LeadStatusChange)
    after_entry = and_(later.lead_id == entry.lead_id, later.created_at >= entry.created_at)
    progressed = exists().where(after_entry, _pipeline_rank(later.to_status) > _pipeline_rank(entry.to_status))
    won = exists().where(after_entry, later.to_status == LeadStatus.won)
    stmt = (
        select(
            entry.to_status,
            func.count(distinct(entry.lead_id)),
            func.count(distinct(case((progressed, entry.lead_id)))),
            func.count(distinct(case((won, entry.lead_id)))),
        )
        .where(entry.to_status.in_(LEAD_PIPELINE[:-1]), entry.created_at >= start, entry.created_at < end)
        .group_by(entry.to_status)
    )
    if principal.assigned_only:
        stmt = stmt.join(Lead, Lead.id == entry.lead_id).where(Lead.assigned_to == principal.user_id)
    found = {status: (entered, moved, to_won) for status, entered, moved, to_won in session.execute(stmt)}
    stages = []
    for stage, following in itertools.pairwise(LEAD_PIPELINE):
        entered, moved, _ = found.get(stage, (0, 0, 0))
        stages.append(
            StageConversion(
                from_status=stage, to_status=following, entered=entered, converted=moved, rate=rate(moved, entered)
            )
        )
    entered_new, _, won_from_new = found.get(LeadStatus.new, (0, 0, 0))
    overall = StageConversion(
        from_status=LeadStatus.new,
        to_status=LeadStatus.won,
        entered=entered_new,
        converted=won_from_new,
        rate=rate(won_from_new, entered_new),
    )
    return ConversionStats(start=start, end=end, stages=stages, overall=overall)
