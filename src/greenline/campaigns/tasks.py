"""The campaign engine's jobs: the tick (start, queue due steps, complete, reap, wake) and the dispatcher.

The tick runs every second (in-process thread in embedded mode, Celery beat in scale
mode) and right after a user starts or resumes a campaign. Each sender number with due messages gets
up to `campaign_dispatch_slots` dispatch jobs; a slot is a short-lived lock in the shared counters,
so the next tick does not pile more jobs on a number that is already being worked.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import structlog
from sqlalchemy import Table, and_, select, update
from sqlalchemy.orm import Session

from greenline.campaigns import dispatcher, progression, stats
from greenline.campaigns.policy import policy_of
from greenline.campaigns.service import finish, launch, launch_time
from greenline.core import clock
from greenline.core.db import unscoped
from greenline.core.jobs import registry
from greenline.core.runtime import Runtime, get_runtime
from greenline.inbound.statuses import adopt_unmatched
from greenline.models import Campaign, CampaignStatus, CampaignStep, Message
from greenline.models.campaign import DRIP_KINDS
from greenline.models.enums import MessageStatus

log = structlog.get_logger(__name__)

TICK_SECONDS = 1.0
# Held while one tick runs and released at its end; a worker killed mid-tick leaves it to expire, so it is
# short: ticks are idempotent (unique message key, guarded updates), the lock only saves duplicate work.
TICK_LOCK_S = 15


def _slot_key(sender_id: int, slot: int) -> str:
    return f"campaigns:dispatch:{sender_id}:{slot}"


def active_tenants(runtime: Runtime) -> list[int]:
    with runtime.task_session() as session, unscoped(session):
        return sorted(
            set(
                session.scalars(
                    select(Campaign.tenant_id).where(
                        Campaign.status.in_([CampaignStatus.scheduled, CampaignStatus.running])
                    )
                )
            )
        )


def reap(session: Session, tenant_id: int, runtime: Runtime) -> int:
    """Messages left `sending` past their lease (a worker died mid-send) become `unknown`, never re-sent."""
    cutoff = clock.now(runtime) - dt.timedelta(seconds=runtime.settings.campaign_send_lease_seconds)
    table = cast(Table, Message.__table__)
    rows = session.execute(
        update(table)
        .where(
            table.c.tenant_id == tenant_id,
            table.c.status == MessageStatus.sending.value,
            table.c.campaign_id.is_not(None),
            table.c.claimed_at < cutoff,
        )
        .values(status=MessageStatus.unknown.value, error_code="lease_expired",
                error_message="the worker sending it stopped; WhatsApp has not confirmed it")
        .returning(table.c.id, table.c.campaign_id, table.c.campaign_step_id)
    ).all()  # fmt: skip
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for _, campaign_id, step_id in rows:
        slot = counts.setdefault((int(campaign_id), int(step_id)), {"unknown": 0})
        slot["unknown"] += 1
    stats.bump(session, tenant_id, counts)
    if rows:
        log.warning("campaigns.reaped", tenant_id=tenant_id, messages=len(rows))
        # Statuses WhatsApp already reported for them (by our id) settle them now.
        adopt_unmatched(session, tenant_id, [int(message_id) for message_id, _, _ in rows])
    return len(rows)


def tick_tenant(runtime: Runtime, tenant_id: int) -> list[int]:
    """One pass over a tenant's campaigns; returns the sender numbers that have due messages."""
    now = clock.now(runtime)
    with runtime.task_session(tenant_id) as session:
        for campaign in session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.scheduled)).all():
            start_at = launch_time(campaign)
            if start_at is not None and start_at <= now:
                launch(session, campaign, now)
                log.info("campaign.started", campaign_id=campaign.id, audience=campaign.audience_size)
    with runtime.task_session(tenant_id) as session:
        running = session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.running)).all()
        for campaign in running:
            steps = list(session.scalars(select(CampaignStep).where(CampaignStep.campaign_id == campaign.id)))
            policy = policy_of(campaign.settings)
            progression.advance(session, campaign, steps, now, marketing=policy.marketing)
        reap(session, tenant_id, runtime)
    with runtime.task_session(tenant_id) as session:
        running = session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.running)).all()
        for campaign in running:
            waits_for_trigger = campaign.kind in DRIP_KINDS and bool(campaign.trigger)
            if waits_for_trigger:
                continue
            if not progression.has_pending_enrollments(session, campaign.id) and not progression.has_unsent_messages(
                session, campaign.id
            ):
                finish(session, campaign, CampaignStatus.completed, now, reason=None)
                log.info("campaign.completed", campaign_id=campaign.id)
        ids = [c.id for c in running if c.status == CampaignStatus.running]
        if not ids:
            return []
        senders = session.scalars(
            select(Message.sender_number_id)
            .where(
                and_(
                    Message.status == MessageStatus.queued,
                    Message.campaign_id.in_(ids),
                    Message.next_attempt_at <= now,
                    Message.sender_number_id.is_not(None),
                )
            )
            .distinct()
        ).all()
    return [int(s) for s in senders if s is not None]


def wake_dispatchers(runtime: Runtime, tenant_id: int, sender_ids: list[int]) -> int:
    started = 0
    lease = int(runtime.settings.campaign_dispatch_run_seconds * 3) + 5
    for sender_id in sender_ids:
        for slot in range(max(1, runtime.settings.campaign_dispatch_slots)):
            count, _ = runtime.counters.hit(_slot_key(sender_id, slot), lease)
            if count == 1:
                runtime.runner.submit("campaigns.dispatch", {"tenant_id": tenant_id, "sender_id": sender_id,
                                                             "slot": slot})  # fmt: skip
                started += 1
    return started


@registry.job("campaigns.tick", queue="dispatch")
def tick(tenant_id: int | None = None) -> int:
    """Start due campaigns, queue due steps, complete finished campaigns, reap leases, wake dispatchers."""
    runtime = get_runtime()
    tenants = [tenant_id] if tenant_id is not None else active_tenants(runtime)
    woken = 0
    for tenant in tenants:
        lock = f"campaigns:tick:{tenant}"
        count, _ = runtime.counters.hit(lock, TICK_LOCK_S)
        if count != 1:
            continue
        try:
            woken += wake_dispatchers(runtime, tenant, tick_tenant(runtime, tenant))
        finally:
            runtime.counters.reset(lock)
    return woken


@registry.job("campaigns.dispatch", queue="dispatch")
def dispatch(tenant_id: int, sender_id: int, slot: int = 0) -> int:
    """Send one number's due campaign messages for a while, then free the slot and look again."""
    runtime = get_runtime()
    try:
        sent = dispatcher.dispatch_sender(
            runtime, tenant_id, sender_id, run_seconds=runtime.settings.campaign_dispatch_run_seconds
        )
    finally:
        runtime.counters.reset(_slot_key(sender_id, slot))
    if sent:
        # More may be due already (the run ended on time, not on an empty queue): look again now.
        runtime.runner.submit("campaigns.tick", {"tenant_id": tenant_id})
    return sent


registry.every(TICK_SECONDS, "campaigns.tick")
