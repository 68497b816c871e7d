"""The campaign dispatcher: claim due messages of one sender number, pace, render, send, record.

One loop per sender number (several may run; they never take the same rows):

1. take budget from the pacer (warm-up day, hourly/daily caps, messages per second);
2. claim that many due `queued` messages of running campaigns: `sending` + lease start, committed
   before any provider call (SKIP LOCKED on PostgreSQL), so a killed worker leaves `sending` rows that
   the reaper turns `unknown`, never re-sends;
3. drop what may not go now: opted-out numbers and the per-contact frequency cap (skipped), quiet
   hours and WhatsApp's pair rate (back to `queued` for later) — contacts and their flags in one query;
4. render each body (sandboxed Jinja2 + spintax, deterministic per message, templates compiled once per
   batch) and send concurrently, bounded, so provider latency does not cap throughput; sends start
   only within half the lease, the rest go back to `queued` unspent, so the reaper never races a live batch;
5. write the outcomes in one statement per kind (`sent` as one UPDATE over unnest()ed arrays on
   PostgreSQL, executemany otherwise): `sent` + provider id, a retry later with
   exponential backoff and jitter (retryable codes only), `failed` with its code, or `unknown`
   when the provider may have accepted it; move the counters; auto-pause a campaign whose error rate
   or number quality crosses its threshold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import structlog
from sqlalchemy import BigInteger, ColumnElement, Row, Table, any_, bindparam, func, literal, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from greenline.campaigns import pacing, stats
from greenline.campaigns.personalize import Template, TemplateProblem, compile_template, contact_context
from greenline.campaigns.policy import CampaignPolicy, policy_of
from greenline.channels.base import Channel, MessageKind, OutboundMessage, SendError, SendResult
from greenline.channels.errors import Retry, pair_rate_backoff_seconds
from greenline.channels.sending import react_to_number_error
from greenline.core import clock
from greenline.core.runtime import Runtime
from greenline.inbound.statuses import adopt_unmatched
from greenline.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    ChannelType,
    Contact,
    Message,
    QualityRating,
    SenderNumber,
    SenderStatus,
)
from greenline.models.enums import Direction, MessageStatus
from greenline.optouts.service import opted_out_clause
from greenline.usage import service as usage

log = structlog.get_logger(__name__)

BATCH = 500
CONCURRENCY = 64
PAIR_GAP = dt.timedelta(seconds=6)  # WhatsApp's pair rate: one message to the same user every 6 s
USABLE = (SenderStatus.connected,)
_RNG = random.SystemRandom()  # jitter and human-like gaps; not security-relevant
_TEMPLATES: dict[tuple[str, frozenset[str]], Template] = {}
# What rendering, quiet hours and the outbound message read of a contact.
_RECIPIENT_COLUMNS = (Contact.id, Contact.phone, Contact.name, Contact.email, Contact.custom_data, Contact.country,
                      Contact.language, Contact.tags, Contact.timezone)  # fmt: skip


@dataclass
class Plan:
    """What one claimed message becomes before it is sent."""

    message_id: int
    contact_id: int
    campaign_id: int
    step_id: int
    attempts: int
    outbound: OutboundMessage | None = None
    body: str | None = None


@dataclass
class Outcomes:
    sent: list[dict[str, Any]] = field(default_factory=list)
    retry: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    unsent: list[tuple[int, dt.datetime]] = field(default_factory=list)
    counts: dict[tuple[int, int], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    codes: Counter[tuple[int, int, str]] = field(default_factory=Counter)
    number_error: SendError | None = None


def template_for(source: str, extra: frozenset[str]) -> Template:
    key = (source, extra)
    found = _TEMPLATES.get(key)
    if found is None:
        if len(_TEMPLATES) > 2048:
            _TEMPLATES.clear()
        found = _TEMPLATES[key] = compile_template(source, extra_variables=extra)
    return found


# --- claiming -----------------------------------------------------------------------------------


def claim(
    session: Session, tenant_id: int, sender_id: int, campaign_ids: list[int], now: dt.datetime, limit: int
) -> list[tuple[int, int, int, int, int]]:
    """Move up to `limit` due queued messages to `sending`; returns (id, contact, campaign, step, attempts)."""
    if limit <= 0 or not campaign_ids:
        return []
    table = cast(Table, Message.__table__)
    due = (
        select(table.c.id)
        .where(
            table.c.tenant_id == tenant_id,
            table.c.sender_number_id == sender_id,
            table.c.status == MessageStatus.queued.value,
            table.c.campaign_id.is_not(None),
            table.c.campaign_id.in_(campaign_ids),
            table.c.next_attempt_at <= now,
        )
        .order_by(table.c.next_attempt_at, table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    columns = (table.c.id, table.c.contact_id, table.c.campaign_id, table.c.campaign_step_id, table.c.attempts)
    if session.get_bind().dialect.name == "postgresql":
        picked = due.cte("picked")
        stmt = (
            update(table)
            .where(table.c.id == picked.c.id)
            .values(status=MessageStatus.sending.value, claimed_at=now, attempts=table.c.attempts + 1)
            .returning(*columns)
        )
        rows = session.execute(stmt).all()
    else:
        ids = list(session.scalars(due))
        if not ids:
            return []
        rows = session.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.status == MessageStatus.queued.value)
            .values(status=MessageStatus.sending.value, claimed_at=now, attempts=table.c.attempts + 1)
            .returning(*columns)
        ).all()
    return [(int(a), int(b), int(c), int(d), int(e)) for a, b, c, d, e in rows]


def _over_frequency_cap(
    session: Session, contact_ids: list[int], policy: CampaignPolicy, now: dt.datetime, claimed: set[int]
) -> set[int]:
    cap = policy.frequency_cap
    if cap is None or not contact_ids:
        return set()
    since = now - dt.timedelta(days=cap.days)
    rows = session.execute(
        select(Message.contact_id, func.count())
        .where(
            Message.contact_id.in_(contact_ids),
            Message.campaign_id.is_not(None),
            Message.direction == Direction.outbound,
            Message.claimed_at >= since,
            Message.status.in_([MessageStatus.sent, MessageStatus.delivered, MessageStatus.read,
                                MessageStatus.unknown, MessageStatus.sending]),
            Message.id.not_in(claimed),
        )
        .group_by(Message.contact_id)
    ).all()  # fmt: skip
    return {int(contact) for contact, count in rows if count >= cap.max_messages}


def ids_in(session: Session, column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL one array parameter (`= ANY`), so 500 ids are not 500 placeholders."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[bool], column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(BigInteger))))
    return cast(ColumnElement[bool], column.in_(ids))


def recipients(
    session: Session, sender_id: int, contact_ids: Sequence[int], now: dt.datetime, *, marketing: bool
) -> dict[int, Row[Any]]:
    """The claimed contacts, with whether each is opted out and whether this number messaged it in the last
    6 s (WhatsApp's pair rate), in one query of plain rows: no ORM objects in the hot path."""
    recent = (
        select(Message.id)
        .where(
            Message.tenant_id == Contact.tenant_id,
            Message.contact_id == Contact.id,
            Message.sender_number_id == sender_id,
            Message.direction == Direction.outbound,
            Message.sent_at >= now - PAIR_GAP,
        )
        .exists()
    )
    opted = opted_out_clause(Contact.phone, Contact.tenant_id) if marketing else literal(False)
    rows = session.execute(
        select(*_RECIPIENT_COLUMNS, opted.label("opted_out"), recent.label("recent")).where(
            ids_in(session, Contact.id, contact_ids)
        )
    )
    return {int(row.id): row for row in rows}


# --- rendering ----------------------------------------------------------------------------------


def _outbound(
    sender: SenderNumber, step: CampaignStep, contact: Contact, body: str, params: list[str], message_id: int
) -> OutboundMessage:
    if sender.channel == ChannelType.cloud and step.cloud_template.get("name"):
        components = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}] if params else []
        return OutboundMessage(
            to=contact.phone,
            kind=MessageKind.template,
            template={
                "name": step.cloud_template["name"],
                "language": {"code": step.cloud_template.get("language", "en")},
                "components": components,
            },
            marketing=True,
            client_ref=str(message_id),
        )
    if step.media_url:
        kind = MessageKind(step.kind) if step.kind in MessageKind.__members__ else MessageKind.document
        return OutboundMessage(to=contact.phone, kind=kind, media_url=step.media_url, caption=body or None,
                               marketing=True, client_ref=str(message_id))  # fmt: skip
    return OutboundMessage(to=contact.phone, text=body, marketing=True, client_ref=str(message_id))


@dataclass(frozen=True)
class Renderer:
    """One step of one campaign, compiled once per batch: not per message."""

    step: CampaignStep
    body: Template | None
    params: tuple[Template, ...]
    variables: dict[str, Any]

    @classmethod
    def of(cls, step: CampaignStep, campaign: Campaign) -> Renderer:
        extra = frozenset(campaign.variables)
        params = tuple(template_for(str(p), extra) for p in step.cloud_template.get("parameters", []))
        body = template_for(step.body, extra) if step.body else None
        return cls(step, body, params, dict(campaign.variables))


def render(plan: Plan, sender: SenderNumber, renderer: Renderer, contact: Contact) -> OutboundMessage:
    context = {**renderer.variables, **contact_context(contact)}
    key = f"{plan.campaign_id}:{plan.step_id}:{plan.contact_id}"  # the spintax choice is stable per message
    body = renderer.body.render(context, variation_key=key) if renderer.body is not None else ""
    params = [t.render(context, variation_key=f"{key}:{i}") for i, t in enumerate(renderer.params)]
    plan.body = body or None
    return _outbound(sender, renderer.step, contact, body, params, plan.message_id)


# --- sending ------------------------------------------------------------------------------------


async def _send_all(
    runtime: Runtime, sender: SenderNumber, plans: list[Plan], send_by: float = math.inf
) -> list[SendResult | SendError | None]:
    """Send every plan, bounded; a plan not started by `send_by` (monotonic) is left unsent (None).

    The deadline keeps sends well inside the claim's lease: the reaper turns a row still `sending` after
    the lease into `unknown`, so a slow batch must stop starting sends rather than race it.
    """
    from greenline.channels.registry import channel_for

    if sender.channel == ChannelType.cloud:
        # One pooled client per batch: a fresh client per send costs ~50 ms of TLS setup on its own.
        pool = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=pool) as client:
            return await _send_with(channel_for(runtime, sender, client=client), runtime, sender, plans, send_by)
    return await _send_with(channel_for(runtime, sender), runtime, sender, plans, send_by)


async def _send_with(
    channel: Channel, runtime: Runtime, sender: SenderNumber, plans: list[Plan], send_by: float
) -> list[SendResult | SendError | None]:
    if sender.min_gap_seconds > 0:
        # Linked-device numbers send one at a time with a random human-like gap.
        results: list[SendResult | SendError | None] = []
        for plan in plans:
            assert plan.outbound is not None
            if time.monotonic() > send_by:
                results.append(None)
                continue
            try:
                results.append(await channel.send(plan.outbound))
            except SendError as error:
                results.append(error)
            gap = _RNG.uniform(sender.min_gap_seconds, sender.min_gap_seconds * 2) / clock.speed(runtime)
            await asyncio.sleep(gap)
        return results
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(plan: Plan) -> SendResult | SendError | None:
        assert plan.outbound is not None
        async with gate:
            if time.monotonic() > send_by:
                return None
            try:
                return await channel.send(plan.outbound)
            except SendError as error:
                return error

    return await asyncio.gather(*(one(p) for p in plans))


def _backoff(policy: CampaignPolicy, error: SendError, attempts: int) -> float:
    if error.info.retry == Retry.after_24h:
        return 86_400.0
    if error.code == 131056:
        return pair_rate_backoff_seconds(attempts - 1) + 6.0
    if error.retry_after:
        return float(error.retry_after) * _RNG.uniform(1.0, 1.5)
    base = policy.retries.base_seconds * (2 ** (attempts - 1))
    return float(min(policy.retries.max_seconds, base) * _RNG.uniform(0.5, 1.5))


def classify_outcomes(
    plans: list[Plan],
    results: list[SendResult | SendError | None],
    policies: dict[int, CampaignPolicy],
    now: dt.datetime,
) -> Outcomes:
    out = Outcomes()
    for plan, result in zip(plans, results, strict=True):
        step = (plan.campaign_id, plan.step_id)
        if result is None:
            out.unsent.append((plan.message_id, now))  # never handed to the provider: due again at once
            continue
        if isinstance(result, SendResult):
            out.sent.append({"mid": plan.message_id, "pid": result.provider_message_id, "at": result.accepted_at,
                             "body": plan.body})  # fmt: skip
            out.counts[step]["sent"] += 1
            continue
        policy = policies[plan.campaign_id]
        code, reason = str(result.code), result.message[:500]
        if result.maybe_sent:
            out.unknown.append({"mid": plan.message_id, "code": code, "reason": reason, "body": plan.body})
            out.counts[step]["unknown"] += 1
            continue
        if result.info.retry in (Retry.stop_number, Retry.reauth):
            # Not this message's fault: it waits for the number, without using up an attempt.
            out.number_error = result
            out.retry.append({"mid": plan.message_id, "due": now + dt.timedelta(hours=1), "code": code,
                              "reason": reason, "refund": 1})  # fmt: skip
            continue
        retryable = result.info.retry in (Retry.backoff, Retry.after_24h)
        if retryable and plan.attempts < policy.retries.max_attempts:
            due = now + dt.timedelta(seconds=_backoff(policy, result, plan.attempts))
            out.retry.append({"mid": plan.message_id, "due": due, "code": code, "reason": reason, "refund": 0})
            out.counts[step]["retried"] += 1
            continue
        out.failed.append({"mid": plan.message_id, "code": code, "reason": reason, "at": now, "body": plan.body})
        out.counts[step]["failed"] += 1
        out.codes[(plan.campaign_id, plan.step_id, code)] += 1
    return out


def record(session: Session, tenant_id: int, outcomes: Outcomes) -> None:
    """Write every outcome of a batch: one statement per kind, then the counters."""
    table = cast(Table, Message.__table__)
    by_id = table.c.id == bindparam("mid")
    if outcomes.sent and session.get_bind().dialect.name == "postgresql":
        _record_sent_pg(session, outcomes.sent)
    elif outcomes.sent:
        session.execute(
            update(table)
            .where(by_id, table.c.status == MessageStatus.sending.value)
            .values(status=MessageStatus.sent.value, provider_message_id=bindparam("pid"), sent_at=bindparam("at"),
                    body=bindparam("body"), tallied=table.c.tallied.op("|")(stats.SENT), error_code=None,
                    error_message=None),
            outcomes.sent,
        )  # fmt: skip
    if outcomes.retry:
        session.execute(
            update(table)
            .where(by_id, table.c.status == MessageStatus.sending.value)
            .values(status=MessageStatus.queued.value, next_attempt_at=bindparam("due"),
                    error_code=bindparam("code"), error_message=bindparam("reason"),
                    attempts=table.c.attempts - bindparam("refund")),
            outcomes.retry,
        )  # fmt: skip
    if outcomes.failed:
        session.execute(
            update(table)
            .where(by_id, table.c.status == MessageStatus.sending.value)
            .values(status=MessageStatus.failed.value, error_code=bindparam("code"),
                    error_message=bindparam("reason"), failed_at=bindparam("at"), body=bindparam("body"),
                    tallied=table.c.tallied.op("|")(stats.FAILED)),
            outcomes.failed,
        )  # fmt: skip
    if outcomes.unknown:
        session.execute(
            update(table)
            .where(by_id, table.c.status == MessageStatus.sending.value)
            .values(status=MessageStatus.unknown.value, error_code=bindparam("code"),
                    error_message=bindparam("reason"), body=bindparam("body")),
            outcomes.unknown,
        )  # fmt: skip
    _requeue(session, outcomes.unsent)
    stats.bump(session, tenant_id, {key: dict(c) for key, c in outcomes.counts.items()})
    stats.bump_errors(session, tenant_id, outcomes.codes)
    if outcomes.unknown:
        # A timed-out send that reached WhatsApp may already have statuses waiting for it (by our id).
        adopt_unmatched(session, tenant_id, [row["mid"] for row in outcomes.unknown])


def _record_sent_pg(session: Session, sent: list[dict[str, Any]]) -> None:
    """The accepted messages of a batch in one UPDATE joined to unnest()ed arrays (not 500 statements)."""
    session.execute(
        text(
            "UPDATE messages SET status = 'sent', provider_message_id = v.pid, sent_at = v.at, body = v.body, "
            f"tallied = messages.tallied | {stats.SENT}, error_code = NULL, error_message = NULL "
            "FROM unnest(CAST(:mids AS bigint[]), CAST(:pids AS varchar[]), CAST(:ats AS timestamptz[]), "
            "CAST(:bodies AS text[])) AS v(mid, pid, at, body) "
            "WHERE messages.id = v.mid AND messages.status = 'sending'"
        ),
        {
            "mids": [row["mid"] for row in sent],
            "pids": [row["pid"] for row in sent],
            "ats": [row["at"] for row in sent],
            "bodies": [row["body"] for row in sent],
        },
    )


def _skip(session: Session, ids: list[int], code: str, now: dt.datetime) -> None:
    if ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.status == MessageStatus.sending)
            .values(status=MessageStatus.skipped, error_code=code, failed_at=now)
            .execution_options(synchronize_session=False)
        )


def _requeue(session: Session, rows: list[tuple[int, dt.datetime]]) -> None:
    if rows:
        table = cast(Table, Message.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("mid"), table.c.status == MessageStatus.sending.value)
            .values(status=MessageStatus.queued.value, next_attempt_at=bindparam("due"), attempts=table.c.attempts - 1),
            [{"mid": mid, "due": due} for mid, due in rows],
        )


# --- auto-pause ---------------------------------------------------------------------------------


def pause(session: Session, campaign: Campaign, reason: str, now: dt.datetime) -> None:
    if campaign.status != CampaignStatus.running:
        return
    campaign.status, campaign.status_reason, campaign.paused_at = CampaignStatus.paused, reason[:300], now
    log.warning("campaign.auto_paused", campaign_id=campaign.id, reason=reason)
    from greenline.webhooks import service as webhooks

    webhooks.emit(session, "campaign.paused", {"campaign_id": campaign.id, "reason": campaign.status_reason})


def check_auto_pause(session: Session, campaign: Campaign, sender: SenderNumber, now: dt.datetime) -> None:
    policy = policy_of(campaign.settings).auto_pause
    if sender.status != SenderStatus.connected:
        pause(session, campaign, f"number {sender.display_number} is {sender.status.value}: "
                                 f"{sender.status_reason or 'no longer able to send'}", now)  # fmt: skip
        return
    if sender.quality_rating != QualityRating.unknown and sender.quality_rating.value in policy.on_quality:
        pause(session, campaign, f"number {sender.display_number} quality is {sender.quality_rating.value}", now)
        return
    counts = stats.totals(stats.step_rows(session, campaign.id))
    attempts = counts["sent"] + counts["failed"]
    if attempts >= policy.min_attempts and counts["failed"] / attempts >= policy.error_rate:
        rate = counts["failed"] / attempts
        pause(session, campaign, f"error rate {rate:.0%} over {attempts} sends reached the "
                                 f"{policy.error_rate:.0%} threshold", now)  # fmt: skip


# --- the loop -----------------------------------------------------------------------------------


@dataclass
class Batch:
    sender: SenderNumber
    plans: list[Plan]
    policies: dict[int, CampaignPolicy]
    more: bool  # the claim was full: more may be due right now
    wait: float = 0.0  # simulated seconds until budget frees up, when nothing could be claimed
    send_by: float = math.inf  # monotonic time after which no send of this batch may start


def prepare(runtime: Runtime, session: Session, tenant_id: int, sender_id: int, pacer: pacing.Pacer) -> Batch | None:
    """Claim and plan one batch (the caller commits before sending)."""
    now = clock.now(runtime)
    # Sends start within half the lease, real time, so the reaper never takes a row that is still moving.
    send_by = time.monotonic() + runtime.settings.campaign_send_lease_seconds / clock.speed(runtime) / 2
    sender = session.get(SenderNumber, sender_id)
    if sender is None:
        return None
    running = session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.running))
    campaigns = [c for c in running if sender_id in (c.sender_number_ids or [])]
    if not campaigns:
        return None
    for campaign in campaigns:
        check_auto_pause(session, campaign, sender, now)
    campaigns = [c for c in campaigns if c.status == CampaignStatus.running]
    if not campaigns or sender.status not in USABLE:
        return None
    policies = {c.id: policy_of(c.settings) for c in campaigns}
    paced = any(p.pacing for p in policies.values())
    limits = pacing.limits_for(sender, now, pacing=paced)
    if limits.per_day is not None:
        pacer.ensure_day_counter(session, sender, now)
    grant = pacer.take(sender, limits, BATCH, now)
    if grant.count == 0:
        return Batch(sender, [], policies, more=False, wait=grant.wait_seconds)
    rows = claim(session, tenant_id, sender_id, [c.id for c in campaigns], now, grant.count)
    pacer.give_back(sender, limits, grant.count - len(rows), now)
    more = len(rows) == grant.count
    if not rows:
        return Batch(sender, [], policies, more=False)
    plans = [Plan(mid, contact, camp, step, attempts) for mid, contact, camp, step, attempts in rows]
    contact_ids = sorted({p.contact_id for p in plans})
    any_marketing = any(p.marketing for p in policies.values())
    contacts = recipients(session, sender_id, contact_ids, now, marketing=any_marketing)
    steps = {
        s.id: s for s in session.scalars(select(CampaignStep).where(CampaignStep.id.in_({p.step_id for p in plans})))
    }
    by_campaign = {c.id: c for c in campaigns}

    capped: set[int] = set()
    for policy in {id(p): p for p in policies.values() if p.marketing}.values():
        capped |= _over_frequency_cap(session, contact_ids, policy, now, {p.message_id for p in plans})
    seen: set[int] = set()
    renderers: dict[int, Renderer] = {}
    skip: dict[str, list[int]] = defaultdict(list)
    later: list[tuple[int, dt.datetime]] = []
    ready: list[Plan] = []
    tenant_zone = None
    for plan in plans:
        policy = policies[plan.campaign_id]
        row = contacts.get(plan.contact_id)
        if row is None:
            skip["contact_deleted"].append(plan.message_id)
            continue
        contact = cast(Contact, row)  # a row with the columns render() and quiet hours read
        if policy.marketing and row.opted_out:
            skip["opted_out"].append(plan.message_id)
            continue
        if policy.marketing and plan.contact_id in capped:
            skip["frequency_cap"].append(plan.message_id)
            continue
        if policy.quiet_hours and sender.quiet_hours:
            until = pacing.quiet_until(sender.quiet_hours, pacing.zone(contact.timezone, tenant_zone), now)
            if until is not None:
                later.append((plan.message_id, until))
                continue
        if row.recent or plan.contact_id in seen:
            later.append((plan.message_id, now + PAIR_GAP))
            continue
        seen.add(plan.contact_id)
        try:
            renderer = renderers.get(plan.step_id)
            if renderer is None:
                renderer = renderers[plan.step_id] = Renderer.of(steps[plan.step_id], by_campaign[plan.campaign_id])
            plan.outbound = render(plan, sender, renderer, contact)
        except TemplateProblem as problem:
            skip["template_error"].append(plan.message_id)
            log.warning("campaign.render_failed", campaign_id=plan.campaign_id, problem=str(problem))
            continue
        ready.append(plan)
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    codes: Counter[tuple[int, int, str]] = Counter()
    plan_by_id = {p.message_id: p for p in plans}
    for code, ids in skip.items():
        _skip(session, ids, code, now)
        for mid in ids:
            p = plan_by_id[mid]
            counts[(p.campaign_id, p.step_id)]["opted_out" if code == "opted_out" else "skipped"] += 1
            codes[(p.campaign_id, p.step_id, code)] += 1
    stats.bump(session, tenant_id, counts)
    stats.bump_errors(session, tenant_id, codes)
    _requeue(session, later)
    pacer.give_back(sender, limits, len(later) + sum(len(v) for v in skip.values()), now)
    return Batch(sender, ready, policies, more=more, send_by=send_by)


def dispatch_sender(runtime: Runtime, tenant_id: int, sender_id: int, *, run_seconds: float = 10.0) -> int:
    """Send due campaign messages of one number for up to `run_seconds`; returns how many were accepted."""
    pacer = pacing.Pacer(runtime.counters)
    deadline = time.monotonic() + run_seconds
    accepted = 0
    while time.monotonic() < deadline:
        with runtime.task_session(tenant_id) as session:
            batch = prepare(runtime, session, tenant_id, sender_id, pacer)
        if batch is None:
            break
        if not batch.plans:
            if batch.more:
                continue  # the whole claim was skipped or deferred: look at the next rows
            wait_real = batch.wait / clock.speed(runtime)
            if 0 < wait_real <= 1.0 and time.monotonic() + wait_real < deadline:
                time.sleep(wait_real)
                continue
            break
        results = asyncio.run(_send_all(runtime, batch.sender, batch.plans, batch.send_by))
        now = clock.now(runtime)
        outcomes = classify_outcomes(batch.plans, results, batch.policies, now)
        with runtime.task_session(tenant_id) as session:
            record(session, tenant_id, outcomes)
            if outcomes.number_error is not None:
                react_to_number_error(session, sender_id, outcomes.number_error)
            sender = session.get(SenderNumber, sender_id)
            assert sender is not None
            for campaign_id in {p.campaign_id for p in batch.plans}:
                campaign = session.get(Campaign, campaign_id)
                if campaign is not None:
                    check_auto_pause(session, campaign, sender, now)
            minute = int(now.timestamp()) // 60
            sent_ids = {row["mid"] for row in outcomes.sent}
            sent_by_campaign = Counter(p.campaign_id for p in batch.plans if p.message_id in sent_ids)
            for campaign_id, n in sent_by_campaign.items():
                runtime.counters.hit(stats.throughput_key(campaign_id, minute), 180, n)
        accepted += len(outcomes.sent)
        usage.record(runtime.meter, tenant_id, "messages_sent", len(outcomes.sent))
        if not batch.more:
            break
    return accepted
