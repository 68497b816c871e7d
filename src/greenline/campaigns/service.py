"""Campaigns: create and edit, validate templates on save, and run the lifecycle.

draft → scheduled → running ⇄ paused → completed | stopped. Starting enrols the audience with one
INSERT … SELECT; the engine's tick (tasks.py) then queues due steps and wakes the dispatchers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from greenline.campaigns import audience, pacing, progression, stats
from greenline.campaigns.personalize import TemplateProblem, compile_template, contact_context
from greenline.campaigns.policy import policy_of
from greenline.campaigns.schemas import (
    AdvanceIn,
    Audience,
    CampaignCreate,
    CampaignOut,
    CampaignStats,
    CampaignUpdate,
    DripAnalytics,
    DuplicateIn,
    EnrollIn,
    EnrollOut,
    PreviewIn,
    PreviewOut,
    ProgressOut,
    Schedule,
    StepAnalytics,
    StepCounts,
    StepIn,
    StepOut,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)
from greenline.core import clock
from greenline.core.db import session_tenant
from greenline.core.errors import Conflict, InvalidInput, NotFound
from greenline.core.jobs import enqueue
from greenline.core.pagination import Page, after, decode_cursor, encode_cursor
from greenline.core.principal import Principal
from greenline.core.runtime import get_runtime
from greenline.models import (
    Campaign,
    CampaignEnrollment,
    CampaignKind,
    CampaignStat,
    CampaignStatus,
    CampaignStep,
    Contact,
    Message,
    MessageTemplate,
    SenderNumber,
    SenderStatus,
    Tenant,
)
from greenline.models.campaign import DRIP_KINDS, EnrollmentStatus
from greenline.models.enums import MessageStatus

EDITABLE = (CampaignStatus.draft, CampaignStatus.scheduled, CampaignStatus.paused)
STEPS_EDITABLE = (CampaignStatus.draft, CampaignStatus.scheduled)
# Drip presets: the steps a nurture or follow-up starts with when none are given.
PRESETS: dict[CampaignKind, list[dict[str, Any]]] = {
    CampaignKind.nurture: [
        {"body": "Hi {{ first_name | default('there') }}! Thanks for your interest.", "delay_value": 0},
        {"body": "{Quick|Friendly} tip for you, {{ first_name | default('there') }}.", "delay_value": 3,
         "delay_unit": "days", "condition": {"type": "not_replied"}},
        {"body": "Anything we can help with? Just reply to this message.", "delay_value": 7, "delay_unit": "days",
         "condition": {"type": "not_replied"}},
    ],
    CampaignKind.followup: [
        {"body": "Hi {{ first_name | default('there') }}, just following up on our last message.",
         "delay_value": 1, "delay_unit": "days", "condition": {"type": "not_replied"}},
        {"body": "Last reminder from us, {{ first_name | default('there') }}. Reply STOP to opt out.",
         "delay_value": 3, "delay_unit": "days", "condition": {"type": "not_replied"}},
    ],
}  # fmt: skip


def _now() -> dt.datetime:
    return clock.now(get_runtime())


# --- templates -------------------------------------------------------------------------------------


def _check_body(field: str, body: str | None, extra: Sequence[str] = ()) -> list[str]:
    """Compile a template source; a problem is a 422 naming the field, the line and the variable."""
    if body is None or not body.strip():
        return []
    try:
        template = compile_template(body, extra_variables=extra)
    except TemplateProblem as problem:
        where = f" (line {problem.line})" if problem.line else ""
        raise InvalidInput(field, f"{problem.message}{where}") from None
    return sorted(template.variables)


def create_template(session: Session, data: TemplateIn) -> MessageTemplate:
    variables = _check_body("body", data.body)
    _template_name_free(session, data.name)
    template = MessageTemplate(
        name=data.name, description=data.description, body=data.body, category=data.category,
        language=data.language, variables=variables,
        cloud_template=data.cloud_template.model_dump() if data.cloud_template else {},
    )  # fmt: skip
    session.add(template)
    session.flush()
    return template


def _template_name_free(session: Session, name: str, exclude: int | None = None) -> None:
    stmt = select(MessageTemplate.id).where(MessageTemplate.name == name)
    if exclude is not None:
        stmt = stmt.where(MessageTemplate.id != exclude)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a template named {name!r} already exists", details=[{"field": "name", "problem": "taken"}])


def get_template(session: Session, template_id: int) -> MessageTemplate:
    template = session.scalar(select(MessageTemplate).where(MessageTemplate.id == template_id))
    if template is None:
        raise NotFound("template not found")
    return template


def update_template(session: Session, template_id: int, data: TemplateUpdate) -> MessageTemplate:
    template = get_template(session, template_id)
    values = data.model_dump(exclude_unset=True)
    if "body" in values and values["body"] is not None:
        template.variables = _check_body("body", values["body"])
    if values.get("name") and values["name"] != template.name:
        _template_name_free(session, values["name"], template.id)
    for key, value in values.items():
        if value is None and key in ("name", "body", "category", "language"):
            raise InvalidInput(key, "must not be null")
        setattr(template, key, ({} if value is None else value) if key == "cloud_template" else value)
    session.flush()
    return template


def delete_template(session: Session, template_id: int) -> None:
    session.delete(get_template(session, template_id))


def list_templates(session: Session, q: str | None, cursor: str | None, limit: int) -> Page[TemplateOut]:
    stmt = select(MessageTemplate).order_by(MessageTemplate.id)
    if q:
        stmt = stmt.where(func.lower(MessageTemplate.name).contains(q.lower(), autoescape=True))
    if cursor:
        stmt = stmt.where(after([MessageTemplate.id], decode_cursor(cursor, 1)))
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=[TemplateOut.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)


# --- campaigns: validation -------------------------------------------------------------------------


def _senders(session: Session, ids: Sequence[int]) -> list[SenderNumber]:
    if not ids:
        return []
    found = {s.id: s for s in session.scalars(select(SenderNumber).where(SenderNumber.id.in_(list(ids))))}
    for index, sender_id in enumerate(ids):
        if sender_id not in found:
            raise InvalidInput(f"sender_number_ids.{index}", f"WhatsApp number {sender_id} not found")
    return [found[i] for i in ids]


def _check_audience(session: Session, data: Audience) -> dict[str, Any]:
    raw = data.model_dump(exclude_none=True, exclude_defaults=False)
    if not raw.get("all"):
        raw.pop("all", None)
    if data.segment_id is not None:
        from greenline.segments.service import get_segment

        try:
            get_segment(session, data.segment_id)
        except NotFound:
            raise InvalidInput("audience.segment_id", f"segment {data.segment_id} not found") from None
    if data.filter is not None:
        from greenline.segments.service import validate_rules

        validate_rules(data.filter, "audience.filter")
    return raw


def _steps_from(data: CampaignCreate | CampaignUpdate, kind: CampaignKind) -> list[StepIn] | None:
    if data.steps is not None:
        if kind == CampaignKind.broadcast and len(data.steps) != 1:
            raise InvalidInput("steps", "a broadcast has exactly one step")
        return data.steps
    if data.message is not None or data.media_url is not None:
        return [StepIn(body=data.message, media_url=data.media_url, kind="image" if data.media_url else "text")]
    if isinstance(data, CampaignCreate) and kind in PRESETS:
        return [StepIn.model_validate(step) for step in PRESETS[kind]]
    return None


def _check_steps(steps: Sequence[StepIn], variables: Sequence[str]) -> None:
    for index, step in enumerate(steps):
        _check_body(f"steps.{index}.body", step.body, variables)
        if step.cloud_template is not None:
            for p_index, parameter in enumerate(step.cloud_template.parameters):
                _check_body(f"steps.{index}.cloud_template.parameters.{p_index}", parameter, variables)
        if index == 0 and step.condition is not None and step.condition.type in ("previous_read", "previous_not_read"):
            raise InvalidInput("steps.0.condition", "the first step has no previous message")


def _replace_steps(session: Session, campaign: Campaign, steps: Sequence[StepIn]) -> None:
    session.execute(delete(CampaignStep).where(CampaignStep.campaign_id == campaign.id))
    session.flush()
    for position, step in enumerate(steps, start=1):
        row = CampaignStep(
            campaign_id=campaign.id, position=position, name=step.name, body=step.body, kind=step.kind,
            media_url=step.media_url, delay_value=step.delay_value, delay_unit=step.delay_unit,
            delay_from=step.delay_from,
            condition=step.condition.model_dump(exclude_none=True) if step.condition else {},
            cloud_template=step.cloud_template.model_dump() if step.cloud_template else {},
        )  # fmt: skip
        session.add(row)
        session.flush()
        session.add(CampaignStat(campaign_id=campaign.id, step_id=row.id))
    session.flush()


def _step_in(step: CampaignStep) -> StepIn:
    """A stored step as the input that would create it again (for duplicates and re-checks)."""
    data = StepOut.model_validate(step).model_dump(include=set(StepIn.model_fields), exclude_none=True)
    return StepIn.model_validate(data)


def _steps_of(session: Session, campaign_id: int) -> list[CampaignStep]:
    return list(
        session.scalars(
            select(CampaignStep).where(CampaignStep.campaign_id == campaign_id).order_by(CampaignStep.position)
        )
    )


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.id == campaign_id))
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


def _progress_share(session: Session, campaign: Campaign) -> float | None:
    if not campaign.audience_size:
        return None
    totals = stats.totals(stats.step_rows(session, campaign.id))
    steps = max(1, len(_steps_of(session, campaign.id)))
    handled = totals["sent"] + totals["failed"] + totals["skipped"] + totals["opted_out"] + totals["unknown"]
    return round(min(1.0, handled / (campaign.audience_size * steps)), 4)


def campaign_out(session: Session, campaign: Campaign) -> CampaignOut:
    out = CampaignOut.model_validate(campaign)
    out.steps = [StepOut.model_validate(s) for s in _steps_of(session, campaign.id)]
    out.progress = _progress_share(session, campaign)
    return out


# --- campaigns: CRUD ----------------------------------------------------------------------------


def create_campaign(session: Session, principal: Principal, data: CampaignCreate) -> CampaignOut:
    if data.template_id is not None:
        try:
            template = get_template(session, data.template_id)
        except NotFound:
            raise InvalidInput("template_id", f"template {data.template_id} not found") from None
        if data.message is None and data.steps is None:
            data = data.model_copy(update={"message": template.body})
    steps = _steps_from(data, data.kind)
    if not steps:
        raise InvalidInput("message", "a campaign needs a message (or steps)")
    _check_steps(steps, list(data.variables))
    audience.check_contact_ids(data.audience.model_dump())
    aud = _check_audience(session, data.audience)
    _senders(session, data.sender_number_ids)
    _check_trigger(data.trigger, data.kind)
    campaign = Campaign(
        name=data.name, description=data.description, kind=data.kind, audience=aud,
        sender_number_ids=list(data.sender_number_ids), rotation=data.rotation, template_id=data.template_id,
        variables=dict(data.variables), settings=data.settings.model_dump(mode="json"), trigger=data.trigger or {},
        created_by=principal.user_id,
    )  # fmt: skip
    session.add(campaign)
    session.flush()
    _replace_steps(session, campaign, steps)
    return campaign_out(session, campaign)


def _check_trigger(trigger: dict[str, Any] | None, kind: CampaignKind) -> None:
    if not trigger:
        return
    if kind not in DRIP_KINDS:
        raise InvalidInput("trigger", "only drip campaigns enrol on triggers")
    event = trigger.get("event")
    if event not in ("contact.created", "tag.added"):
        raise InvalidInput("trigger.event", "must be contact.created or tag.added")
    if event == "tag.added" and not (isinstance(trigger.get("tag"), str) and trigger["tag"].strip()):
        raise InvalidInput("trigger.tag", "a tag.added trigger needs a tag")
    if set(trigger) - {"event", "tag"}:
        raise InvalidInput("trigger", "only event and tag are allowed")


def update_campaign(session: Session, campaign_id: int, data: CampaignUpdate) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.status not in EDITABLE:
        raise Conflict(f"a {campaign.status.value} campaign cannot be edited; pause it first")
    values = data.model_dump(exclude_unset=True)
    variables = list(values["variables"]) if values.get("variables") is not None else list(campaign.variables)
    steps = _steps_from(data, campaign.kind)
    if steps is not None:
        if campaign.status not in STEPS_EDITABLE:
            raise Conflict("messages can only change before the campaign starts; duplicate it instead")
        _check_steps(steps, variables)
        _replace_steps(session, campaign, steps)
    elif "variables" in values:
        _check_steps(
            [_step_in(s) for s in _steps_of(session, campaign.id)],
            variables,
        )
    if data.audience is not None:
        if campaign.status not in STEPS_EDITABLE:
            raise Conflict("the audience can only change before the campaign starts")
        audience.check_contact_ids(data.audience.model_dump())
        campaign.audience = _check_audience(session, data.audience)
    if data.sender_number_ids is not None:
        _senders(session, data.sender_number_ids)
        campaign.sender_number_ids = list(data.sender_number_ids)
    if "trigger" in values:
        _check_trigger(data.trigger, campaign.kind)
        campaign.trigger = data.trigger or {}
    for key in ("name", "description", "rotation"):
        if key in values:
            if values[key] is None and key != "description":
                raise InvalidInput(key, "must not be null")
            setattr(campaign, key, values[key])
    if data.variables is not None:
        campaign.variables = dict(data.variables)
    if data.settings is not None:
        campaign.settings = data.settings.model_dump(mode="json")
    session.flush()
    return campaign_out(session, campaign)


def delete_campaign(session: Session, campaign_id: int) -> None:
    campaign = get_campaign(session, campaign_id)
    if campaign.status == CampaignStatus.running:
        raise Conflict("stop or pause the campaign before deleting it")
    session.delete(campaign)


def list_campaigns(
    session: Session, *, status: CampaignStatus | None, kind: CampaignKind | None, q: str | None,
    cursor: str | None, limit: int,
) -> Page[CampaignOut]:  # fmt: skip
    stmt: Select[Any] = select(Campaign).order_by(Campaign.id.desc())
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    if kind is not None:
        stmt = stmt.where(Campaign.kind == kind)
    if q:
        stmt = stmt.where(func.lower(Campaign.name).contains(q.lower(), autoescape=True))
    if cursor:
        stmt = stmt.where(after([Campaign.id], decode_cursor(cursor, 1), descending=True))
    rows = list(session.scalars(stmt.limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=[campaign_out(session, c) for c in rows[:limit]], next_cursor=next_cursor)


def duplicate_campaign(session: Session, principal: Principal, data: DuplicateIn) -> CampaignOut:
    source = get_campaign(session, data.campaign_id)
    copy = Campaign(
        name=data.name or f"{source.name} (copy)"[:200], description=source.description, kind=source.kind,
        audience=dict(source.audience), sender_number_ids=list(source.sender_number_ids), rotation=source.rotation,
        template_id=source.template_id, variables=dict(source.variables), settings=dict(source.settings),
        trigger=dict(source.trigger), created_by=principal.user_id,
    )  # fmt: skip
    session.add(copy)
    session.flush()
    steps = [_step_in(s) for s in _steps_of(session, source.id)]
    _replace_steps(session, copy, steps)
    return campaign_out(session, copy)


# --- lifecycle ------------------------------------------------------------------------------------


def _usable_senders(session: Session, campaign: Campaign) -> list[SenderNumber]:
    if campaign.sender_number_ids:
        senders = _senders(session, campaign.sender_number_ids)
    else:
        from greenline.channels.sending import default_sender

        default = default_sender(session)
        senders = [default] if default is not None else []
        if default is not None:
            campaign.sender_number_ids = [default.id]
    usable = [s for s in senders if s.status == SenderStatus.connected]
    if not usable:
        raise Conflict("the campaign has no connected WhatsApp number", details=[{"field": "sender_number_ids",
                       "problem": "no connected number"}])  # fmt: skip
    return usable


def _weights(session: Session, campaign: Campaign, senders: Sequence[SenderNumber], now: dt.datetime) -> list[int]:
    if campaign.rotation != "least_loaded":
        return [1] * len(senders)
    weights = []
    for sender in senders:
        limits = pacing.limits_for(sender, now)
        room = (limits.per_day or 100_000) - pacing.used_today(session, sender, now)
        weights.append(max(1, room))
    return weights


def _tenant_zone(session: Session) -> str:
    tenant = session.get(Tenant, session_tenant(session))
    zone = (tenant.settings or {}).get("timezone") if tenant else None
    return zone if isinstance(zone, str) else "UTC"


def start_campaign(session: Session, campaign_id: int) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.status not in (CampaignStatus.draft, CampaignStatus.scheduled):
        raise Conflict(f"a {campaign.status.value} campaign cannot be started")
    launch(session, campaign, _now())
    return campaign_out(session, campaign)


def launch(session: Session, campaign: Campaign, now: dt.datetime) -> int:
    """Enrol the audience and set the campaign running; returns how many contacts were enrolled."""
    senders = _usable_senders(session, campaign)
    steps = _steps_of(session, campaign.id)
    enrolled = 0
    if campaign.audience:
        where = audience.audience_filter(session, campaign.audience)
        enrolled = audience.enroll(
            session, campaign, where, sender_ids=[s.id for s in senders], weights=_weights(session, campaign,
            senders, now), first_step_at=progression.first_due(steps, now), now=now, source="audience",
        )  # fmt: skip
        if campaign.schedule_per_contact and campaign.scheduled_at is not None:
            _local_times(session, campaign, steps)
    elif campaign.kind == CampaignKind.broadcast:
        raise InvalidInput("audience", "a broadcast needs an audience (segment_id, tags, filter, contact_ids or all)")
    campaign.audience_size = enrolled
    campaign.status, campaign.status_reason = CampaignStatus.running, None
    campaign.started_at = campaign.started_at or now
    session.flush()
    wake(session)
    return enrolled


def _local_times(session: Session, campaign: Campaign, steps: Sequence[CampaignStep]) -> None:
    """Per-contact time zones: the scheduled wall-clock time in each contact's zone."""
    assert campaign.scheduled_at is not None
    wall = campaign.scheduled_at.astimezone(_zone(campaign.schedule_timezone)).replace(tzinfo=None)
    fallback = _tenant_zone(session)
    zones = session.execute(
        select(Contact.timezone)
        .join(CampaignEnrollment, CampaignEnrollment.contact_id == Contact.id)
        .where(CampaignEnrollment.campaign_id == campaign.id)
        .distinct()
    ).scalars()
    first_delay = progression.delay_of(steps[0]) if steps else dt.timedelta()
    for name in list(zones):
        due = wall.replace(tzinfo=pacing.zone(name, fallback)).astimezone(dt.UTC) + first_delay
        contact_ids = select(Contact.id).where(Contact.timezone.is_(None) if name is None else Contact.timezone == name)
        session.execute(
            update(CampaignEnrollment)
            .where(CampaignEnrollment.campaign_id == campaign.id, CampaignEnrollment.contact_id.in_(contact_ids))
            .values(next_step_at=due)
            .execution_options(synchronize_session=False)
        )


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", f"unknown time zone {name!r}") from None


def wake(session: Session) -> None:
    """Ask the engine to look at this tenant's campaigns now instead of at the next tick."""
    tenant_id = session_tenant(session)
    if tenant_id is not None:
        enqueue(session, "campaigns.tick", tenant_id=tenant_id)


def pause_campaign(session: Session, campaign_id: int) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.status != CampaignStatus.running:
        raise Conflict(f"only a running campaign can be paused (it is {campaign.status.value})")
    campaign.status, campaign.paused_at, campaign.status_reason = CampaignStatus.paused, _now(), "paused by a user"
    session.flush()
    return campaign_out(session, campaign)


def resume_campaign(session: Session, campaign_id: int) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.status != CampaignStatus.paused:
        raise Conflict(f"only a paused campaign can be resumed (it is {campaign.status.value})")
    _usable_senders(session, campaign)
    campaign.status, campaign.status_reason = CampaignStatus.running, None
    session.flush()
    wake(session)
    return campaign_out(session, campaign)


def stop_campaign(session: Session, campaign_id: int) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.status not in (CampaignStatus.running, CampaignStatus.paused, CampaignStatus.scheduled):
        raise Conflict(f"a {campaign.status.value} campaign cannot be stopped")
    now = _now()
    finish(session, campaign, CampaignStatus.stopped, now, reason="stopped by a user")
    return campaign_out(session, campaign)


def finish(
    session: Session, campaign: Campaign, status: CampaignStatus, now: dt.datetime, *, reason: str | None
) -> None:
    """Complete or stop: active enrolments exit, unsent messages are skipped (counted), the campaign closes."""
    session.execute(
        update(CampaignEnrollment)
        .where(CampaignEnrollment.campaign_id == campaign.id, CampaignEnrollment.status == EnrollmentStatus.active)
        .values(status=EnrollmentStatus.exited, exit_reason="campaign_stopped", completed_at=now, next_step_at=None)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(Message.campaign_step_id, func.count())
        .where(Message.campaign_id == campaign.id, Message.status == MessageStatus.queued)
        .group_by(Message.campaign_step_id)
    ).all()
    if rows:
        session.execute(
            update(Message)
            .where(Message.campaign_id == campaign.id, Message.status == MessageStatus.queued)
            .values(status=MessageStatus.skipped, error_code="campaign_stopped", failed_at=now)
            .execution_options(synchronize_session=False)
        )
        stats.bump(session, campaign.tenant_id, {(campaign.id, int(s)): {"skipped": n} for s, n in rows if s})
    campaign.status, campaign.status_reason, campaign.completed_at = status, reason, now
    session.flush()


def schedule_campaign(session: Session, campaign_id: int, data: Schedule) -> CampaignOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.status not in (CampaignStatus.draft, CampaignStatus.scheduled):
        raise Conflict(f"a {campaign.status.value} campaign cannot be scheduled")
    zone_name = data.timezone or _tenant_zone(session)
    at = data.at if data.at.tzinfo else data.at.replace(tzinfo=_zone(zone_name))
    at = at.astimezone(dt.UTC)
    earliest = at - dt.timedelta(hours=14) if data.per_contact_timezone else at
    if earliest < _now() - dt.timedelta(minutes=1):
        raise InvalidInput("at", "must be in the future")
    campaign.status = CampaignStatus.scheduled
    # With per-contact zones the engine starts early enough for the earliest zone (UTC+14).
    campaign.scheduled_at = at
    campaign.schedule_timezone = zone_name
    campaign.schedule_per_contact = data.per_contact_timezone
    session.flush()
    return campaign_out(session, campaign)


def launch_time(campaign: Campaign) -> dt.datetime | None:
    """When the engine enrols a scheduled campaign (earlier when contacts' own zones apply)."""
    if campaign.scheduled_at is None:
        return None
    return campaign.scheduled_at - dt.timedelta(hours=14) if campaign.schedule_per_contact else campaign.scheduled_at


# --- preview and stats ----------------------------------------------------------------------------


def preview(session: Session, campaign_id: int, data: PreviewIn) -> PreviewOut:
    campaign = get_campaign(session, campaign_id)
    contact = session.scalar(select(Contact).where(Contact.id == data.contact_id))
    if contact is None:
        raise InvalidInput("contact_id", "contact not found")
    source = data.body
    step_id = 0
    if source is None:
        steps = _steps_of(session, campaign.id)
        position = data.step_position or 1
        chosen = next((s for s in steps if s.position == position), None)
        if chosen is None:
            raise InvalidInput("step_position", f"the campaign has no step {position}")
        source, step_id = chosen.body or "", chosen.id
    if not source.strip():
        return PreviewOut(contact_id=contact.id, text="")
    _check_body("body", source, list(campaign.variables))
    template = compile_template(source, extra_variables=list(campaign.variables))
    try:
        text = template.render({**campaign.variables, **contact_context(contact)},
                               variation_key=f"{campaign.id}:{step_id}:{contact.id}")  # fmt: skip
    except TemplateProblem as problem:
        raise InvalidInput("body", problem.message) from None
    return PreviewOut(contact_id=contact.id, text=text)


def _step_counts(step: CampaignStep, row: CampaignStat | None, errors: dict[str, int]) -> StepCounts:
    counts = {name: getattr(row, name) if row else 0 for name in stats.COUNTERS}
    return StepCounts(step_id=step.id, position=step.position, name=step.name, errors=errors,
                      rates=stats.rates(counts), **counts)  # fmt: skip


def campaign_stats(session: Session, campaign_id: int) -> CampaignStats:
    campaign = get_campaign(session, campaign_id)
    steps = _steps_of(session, campaign.id)
    rows = {r.step_id: r for r in stats.step_rows(session, campaign.id)}
    errors = stats.error_counts(session, campaign.id)
    per_step = [_step_counts(s, rows.get(s.id), errors.get(s.id, {})) for s in steps]
    totals = stats.totals(rows.values())
    all_errors: dict[str, int] = {}
    for by_code in errors.values():
        for code, n in by_code.items():
            all_errors[code] = all_errors.get(code, 0) + n
    handled = sum(totals[k] for k in ("sent", "failed", "skipped", "opted_out", "unknown"))
    waiting = max(0, totals["queued"] - handled)
    runtime = get_runtime()
    now = clock.now(runtime)
    minute = int(now.timestamp()) // 60
    throughput, _ = runtime.counters.peek(stats.throughput_key(campaign.id, minute - 1))
    finish_at = None
    if campaign.status == CampaignStatus.running and waiting:
        finish_at = _projected_finish(session, campaign, now)
    elif campaign.completed_at is not None:
        finish_at = campaign.completed_at
    return CampaignStats(
        campaign_id=campaign.id, status=campaign.status, status_reason=campaign.status_reason,
        audience_size=campaign.audience_size, waiting=waiting, errors=all_errors, rates=stats.rates(totals),
        throughput_per_minute=throughput, projected_finish_at=finish_at, steps=per_step, **totals,
    )  # fmt: skip


def _projected_finish(session: Session, campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    remaining = dict(
        session.execute(
            select(Message.sender_number_id, func.count())
            .where(Message.campaign_id == campaign.id, Message.status == MessageStatus.queued)
            .group_by(Message.sender_number_id)
        ).all()
    )
    senders = {s.id: s for s in _senders(session, [i for i in remaining if i is not None])}
    return pacing.project_finish(
        {int(k): int(v) for k, v in remaining.items() if k is not None}, senders, now,
        pacing=policy_of(campaign.settings).pacing,
    )  # fmt: skip


# --- drips ----------------------------------------------------------------------------------------


def set_steps(session: Session, campaign_id: int, steps: Sequence[StepIn]) -> list[StepOut]:
    campaign = get_campaign(session, campaign_id)
    if campaign.kind == CampaignKind.broadcast and len(steps) != 1:
        raise InvalidInput("steps", "a broadcast has exactly one step")
    if campaign.status not in STEPS_EDITABLE:
        raise Conflict("steps can only change before the campaign starts; duplicate it instead")
    _check_steps(steps, list(campaign.variables))
    _replace_steps(session, campaign, steps)
    return [StepOut.model_validate(s) for s in _steps_of(session, campaign.id)]


def list_steps(session: Session, campaign_id: int) -> list[StepOut]:
    get_campaign(session, campaign_id)
    return [StepOut.model_validate(s) for s in _steps_of(session, campaign_id)]


def enroll_contacts(session: Session, campaign_id: int, data: EnrollIn, *, source: str = "manual") -> EnrollOut:
    campaign = get_campaign(session, campaign_id)
    if campaign.kind not in DRIP_KINDS:
        raise Conflict("only drip campaigns take enrolments; a broadcast's audience is fixed when it starts")
    if campaign.status not in (CampaignStatus.running, CampaignStatus.paused, CampaignStatus.scheduled,
                               CampaignStatus.draft):  # fmt: skip
        raise Conflict(f"a {campaign.status.value} campaign takes no new contacts")
    aud = Audience(contact_ids=data.contact_ids, segment_id=data.segment_id, tags=data.tags)
    where = audience.audience_filter(session, _check_audience(session, aud))
    now = _now()
    senders = _usable_senders(session, campaign)
    steps = _steps_of(session, campaign.id)
    added = audience.enroll(
        session, campaign, where, sender_ids=[s.id for s in senders], weights=_weights(session, campaign, senders,
        now), first_step_at=progression.first_due(steps, now), now=now,
        source="segment" if data.segment_id else source,
    )  # fmt: skip
    campaign.audience_size += added
    session.flush()
    if campaign.status == CampaignStatus.running:
        wake(session)
    asked = len(data.contact_ids) if data.contact_ids is not None else None
    return EnrollOut(enrolled=added, already_enrolled_or_excluded=None if asked is None else asked - added)


def list_progress(
    session: Session, campaign_id: int, *, status: EnrollmentStatus | None, cursor: str | None, limit: int
) -> Page[ProgressOut]:
    get_campaign(session, campaign_id)
    stmt = select(CampaignEnrollment).where(CampaignEnrollment.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(CampaignEnrollment.status == status)
    if cursor:
        stmt = stmt.where(after([CampaignEnrollment.id], decode_cursor(cursor, 1)))
    rows = list(session.scalars(stmt.order_by(CampaignEnrollment.id).limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=[ProgressOut.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)


def advance_progress(session: Session, campaign_id: int, data: AdvanceIn) -> int:
    """Manual moves: advance (the next step is due now), skip_to a later step, or exit the drip."""
    campaign = get_campaign(session, campaign_id)
    steps = _steps_of(session, campaign.id)
    now = _now()
    where: tuple[Any, ...] = (
        CampaignEnrollment.campaign_id == campaign.id,
        CampaignEnrollment.contact_id.in_(data.contact_ids),
    )
    values: dict[str, Any]
    if data.action == "exit":
        values = {"status": EnrollmentStatus.exited, "exit_reason": "removed", "completed_at": now,
                  "next_step_at": None}  # fmt: skip
    elif data.action == "advance":
        values = {"next_step_at": now}
        where = (*where, CampaignEnrollment.status == EnrollmentStatus.active)
    else:
        position = data.step_position
        if position is None:
            raise InvalidInput("step_position", "is required for skip_to")
        if position > len(steps):
            raise InvalidInput("step_position", f"the campaign has {len(steps)} steps")
        # Forward only: each (campaign, step, contact) gets one message, so a step already handled stays so.
        values = {"current_step": position - 1, "next_step_at": now}
        where = (*where, CampaignEnrollment.status == EnrollmentStatus.active,
                 CampaignEnrollment.current_step <= position - 1)  # fmt: skip
    result = session.execute(
        update(CampaignEnrollment).where(*where).values(values).execution_options(synchronize_session=False)
    )
    if campaign.status == CampaignStatus.running:
        wake(session)
    return int(getattr(result, "rowcount", 0) or 0)


def drip_analytics(session: Session, campaign_id: int) -> DripAnalytics:
    campaign = get_campaign(session, campaign_id)
    steps = _steps_of(session, campaign.id)
    by_status = dict(
        session.execute(
            select(CampaignEnrollment.status, func.count())
            .where(CampaignEnrollment.campaign_id == campaign.id)
            .group_by(CampaignEnrollment.status)
        ).all()
    )
    reasons = dict(
        session.execute(
            select(CampaignEnrollment.exit_reason, func.count())
            .where(CampaignEnrollment.campaign_id == campaign.id, CampaignEnrollment.status == EnrollmentStatus.exited)
            .group_by(CampaignEnrollment.exit_reason)
        ).all()
    )
    waiting = dict(
        session.execute(
            select(CampaignEnrollment.current_step, func.count())
            .where(CampaignEnrollment.campaign_id == campaign.id, CampaignEnrollment.status == EnrollmentStatus.active)
            .group_by(CampaignEnrollment.current_step)
        ).all()
    )
    rows = {r.step_id: r for r in stats.step_rows(session, campaign.id)}
    errors = stats.error_counts(session, campaign.id)
    return DripAnalytics(
        campaign_id=campaign.id,
        enrolled=sum(by_status.values()),
        active=by_status.get(EnrollmentStatus.active, 0),
        completed=by_status.get(EnrollmentStatus.completed, 0),
        exited=by_status.get(EnrollmentStatus.exited, 0),
        exit_reasons={str(k or "unknown"): v for k, v in reasons.items()},
        steps=[
            StepAnalytics(
                step_id=s.id,
                position=s.position,
                name=s.name,
                waiting=waiting.get(s.position - 1, 0),
                counts=_step_counts(s, rows.get(s.id), errors.get(s.id, {})),
            )
            for s in steps
        ],
    )
