"""Usage counting: in-process buffer → shared pending store → `usage_records`, never a write per request."""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from greenline.core.counters import Counters, PendingMeter
from greenline.core.db import unscoped, utcnow
from greenline.core.runtime import USAGE_BUCKET
from greenline.models import Tenant, UsageRecord
from greenline.tenants.plans import limits_of
from greenline.usage.schemas import MonthUsage, UsageDay, UsageStats, UsageVsPlan

if TYPE_CHECKING:
    from greenline.core.runtime import Runtime

log = structlog.get_logger(__name__)

METRICS = ("api_calls", "messages_sent")
PUSH_INTERVAL_SECONDS = 2.0


def start_meter_pusher(runtime: Runtime) -> threading.Event:
    """Move this process's buffered usage counts to the shared store every few seconds; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(PUSH_INTERVAL_SECONDS):
            try:
                runtime.meter.push()
            except Exception:  # noqa: BLE001 - a Redis hiccup must not kill the pusher; counts stay buffered
                log.warning("usage.push_failed")

    threading.Thread(target=loop, name="greenline-usage-push", daemon=True).start()
    return stop


def record(meter: PendingMeter, tenant_id: int, metric: str, amount: int = 1, day: dt.date | None = None) -> None:
    """Count usage for a tenant; buffered in memory, flushed by the `usage.flush` job."""
    meter.add(f"{(day or utcnow().date()).isoformat()}:{tenant_id}:{metric}", amount)


def _parse(field: str) -> tuple[dt.date, int, str] | None:
    try:
        day, tenant, metric = field.split(":")
        return dt.date.fromisoformat(day), int(tenant), metric
    except ValueError:
        return None


def flush_pending(session: Session, counters: Counters) -> int:
    """Drain the pending store into `usage_records` with one upsert per tenant-day."""
    pending = counters.drain_pending(USAGE_BUCKET)
    rows: dict[tuple[int, dt.date], dict[str, int]] = {}
    for field, amount in pending.items():
        parsed = _parse(field)
        if parsed is None or parsed[2] not in METRICS:
            continue
        day, tenant, metric = parsed
        rows.setdefault((tenant, day), dict.fromkeys(METRICS, 0))[metric] += amount
    if not rows:
        return 0
    with unscoped(session):
        # Counts of tenants deleted since they were recorded have nowhere to go.
        live = set(session.scalars(select(Tenant.id).where(Tenant.id.in_({tenant for tenant, _ in rows}))))
    rows = {key: counts for key, counts in rows.items() if key[0] in live}
    if not rows:
        return 0
    values = [
        {"tenant_id": t, "date": d, **m, "created_at": utcnow(), "updated_at": utcnow()} for (t, d), m in rows.items()
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(UsageRecord).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "date"],
        set_={
            "api_calls": UsageRecord.api_calls + stmt.excluded.api_calls,
            "messages_sent": UsageRecord.messages_sent + stmt.excluded.messages_sent,
            "updated_at": stmt.excluded.updated_at,
        },
    )
    with unscoped(session):
        session.execute(stmt)
    return len(values)


def usage_stats(session: Session, counters: Counters, tenant_id: int, start: dt.date, end: dt.date) -> UsageStats:
    """Daily series for the tenant, including counts not yet flushed."""
    by_day: dict[dt.date, dict[str, int]] = {}
    for record in session.scalars(
        select(UsageRecord).where(UsageRecord.date >= start, UsageRecord.date <= end).order_by(UsageRecord.date)
    ):
        by_day[record.date] = {"api_calls": record.api_calls, "messages_sent": record.messages_sent}
    for field, amount in counters.read_pending(USAGE_BUCKET).items():
        parsed = _parse(field)
        if parsed is None or parsed[1] != tenant_id or parsed[2] not in METRICS or not start <= parsed[0] <= end:
            continue
        by_day.setdefault(parsed[0], dict.fromkeys(METRICS, 0))[parsed[2]] += amount
    days = [UsageDay(date=day, **counts) for day, counts in sorted(by_day.items())]
    return UsageStats(
        tenant_id=tenant_id,
        start=start,
        end=end,
        days=days,
        total_api_calls=sum(d.api_calls for d in days),
        total_messages_sent=sum(d.messages_sent for d in days),
    )


def _left(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(limit - used, 0)


def usage_vs_plan(
    session: Session, counters: Counters, tenant_id: int, start: dt.date, end: dt.date, today: dt.date
) -> UsageVsPlan:
    """The daily series plus this month's use against the tenant's plan quotas."""
    series = usage_stats(session, counters, tenant_id, start, end)
    month_start = today.replace(day=1)
    month = usage_stats(session, counters, tenant_id, month_start, today)
    with unscoped(session):
        tenant = session.get(Tenant, tenant_id)
    plan = tenant.plan if tenant is not None else "free"
    limits = limits_of(plan)
    return UsageVsPlan(
        **series.model_dump(),
        plan=plan,
        limits=limits,
        month_start=month_start,
        used_this_month=MonthUsage(api_calls=month.total_api_calls, messages=month.total_messages_sent),
        remaining=MonthUsage(
            api_calls=_left(limits.api_calls, month.total_api_calls),
            messages=_left(limits.messages, month.total_messages_sent),
        ),
    )
