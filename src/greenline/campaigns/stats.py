"""Campaign counters: moved incrementally as messages progress, read without scanning messages.

Each message carries a bit set (`messages.tallied`) of the milestones already counted, and a counter
moves only in the statement that sets its bit. Two workers reporting the same delivery race on the
row lock; the second finds the bit set and counts nothing, so counters never double count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from greenline.models import CampaignErrorCount, CampaignStat, Message
from greenline.models.enums import MessageStatus

SENT, DELIVERED, READ, FAILED, REPLIED, OPTED_OUT = 1, 2, 4, 8, 16, 32
COUNTERS = (
    "queued", "sent", "delivered", "read", "replied", "failed", "skipped", "opted_out", "unknown", "converted",
    "retried",
)  # fmt: skip
REPLY_WINDOW = dt.timedelta(days=3)  # a reply or opt-out within this time of a campaign message counts for it

StepKey = tuple[int, int]  # (campaign_id, step_id)


def bump(session: Session, tenant_id: int, increments: Mapping[StepKey, Mapping[str, int]]) -> None:
    """Add to step counters (rows are created with the step, so this is a plain UPDATE); keys sorted for lock order."""
    for campaign_id, step_id in sorted(increments):
        amounts = {name: n for name, n in increments[(campaign_id, step_id)].items() if n}
        if not amounts:
            continue
        session.execute(
            update(CampaignStat)
            .where(
                CampaignStat.tenant_id == tenant_id,
                CampaignStat.campaign_id == campaign_id,
                CampaignStat.step_id == step_id,
            )
            .values({name: getattr(CampaignStat, name) + n for name, n in amounts.items()})
            .execution_options(synchronize_session=False)
        )


def bump_errors(session: Session, tenant_id: int, codes: Mapping[tuple[int, int, str], int]) -> None:
    """Count failures by code per step (upsert, so a new code needs no setup)."""
    if not codes:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, CampaignErrorCount.__table__)
    for (campaign_id, step_id, code), count in sorted(codes.items()):
        stmt = insert(table).values(
            tenant_id=tenant_id, campaign_id=campaign_id, step_id=step_id, code=code[:32], count=count
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "campaign_id", "step_id", "code"],
            set_={"count": table.c.count + stmt.excluded.count},
        )
        session.execute(stmt)


def _mark(session: Session, tenant_id: int, where: ColumnElement[bool], bit: int) -> list[tuple[int, int, str | None]]:
    """Set `bit` on matching campaign messages that lack it; returns (campaign, step, error code) of each."""
    table = cast(Table, Message.__table__)
    stmt = (
        update(table)
        .where(
            table.c.tenant_id == tenant_id,
            table.c.campaign_id.is_not(None),
            table.c.tallied.op("&")(bit) == 0,
            where,
        )
        .values(tallied=table.c.tallied.op("|")(bit))
        .returning(table.c.campaign_id, table.c.campaign_step_id, table.c.error_code)
    )
    return [(int(c), int(s), e) for c, s, e in session.execute(stmt).all() if c is not None and s is not None]


def _collect(rows: Iterable[tuple[int, int, str | None]], counter: str) -> dict[StepKey, dict[str, int]]:
    out: dict[StepKey, dict[str, int]] = defaultdict(dict)
    for campaign_id, step_id, _ in rows:
        slot = out[(campaign_id, step_id)]
        slot[counter] = slot.get(counter, 0) + 1
    return out


def tally_statuses(session: Session, tenant_id: int, provider_message_ids: Sequence[str]) -> None:
    """Count milestones reached by campaign messages after a batch of status updates was applied."""
    if not provider_message_ids:
        return
    table = cast(Table, Message.__table__)
    ids = table.c.provider_message_id.in_(list(set(provider_message_ids)))
    milestones: list[tuple[int, ColumnElement[bool], str]] = [
        (SENT, and_(ids, table.c.sent_at.is_not(None)), "sent"),
        (DELIVERED, and_(ids, or_(table.c.delivered_at.is_not(None), table.c.read_at.is_not(None))), "delivered"),
        (READ, and_(ids, table.c.read_at.is_not(None)), "read"),
        (FAILED, and_(ids, table.c.status == MessageStatus.failed.value), "failed"),
    ]
    for bit, where, counter in milestones:
        rows = _mark(session, tenant_id, where, bit)
        if not rows:
            continue
        bump(session, tenant_id, _collect(rows, counter))
        if counter == "failed":
            bump_errors(session, tenant_id, Counter((c, s, e or "unknown") for c, s, e in rows))


def untally_unknown(session: Session, tenant_id: int, message_ids: Sequence[int]) -> None:
    """Take adopted messages off their steps' `unknown` counters (their statuses count them from now on)."""
    rows = session.execute(
        select(Message.campaign_id, Message.campaign_step_id).where(
            Message.tenant_id == tenant_id, Message.id.in_(list(message_ids)), Message.campaign_id.is_not(None)
        )
    ).all()
    counts: dict[StepKey, dict[str, int]] = defaultdict(dict)
    for campaign_id, step_id in rows:
        if campaign_id is not None and step_id is not None:
            slot = counts[(int(campaign_id), int(step_id))]
            slot["unknown"] = slot.get("unknown", 0) - 1
    bump(session, tenant_id, counts)


def _latest_campaign_message(session: Session, contact_id: int, now: dt.datetime) -> int | None:
    return session.scalar(
        select(Message.id)
        .where(
            Message.contact_id == contact_id,
            Message.campaign_id.is_not(None),
            Message.sent_at >= now - REPLY_WINDOW,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def attribute(
    session: Session, tenant_id: int, contact_id: int, bit: int, counter: str, now: dt.datetime
) -> int | None:
    """Credit a reply or opt-out to the contact's latest campaign message, once; returns its campaign id."""
    message_id = _latest_campaign_message(session, contact_id, now)
    if message_id is None:
        return None
    rows = _mark(session, tenant_id, cast(Table, Message.__table__).c.id == message_id, bit)
    bump(session, tenant_id, _collect(rows, counter))
    return rows[0][0] if rows else None


def step_rows(session: Session, campaign_id: int) -> list[CampaignStat]:
    return list(session.scalars(select(CampaignStat).where(CampaignStat.campaign_id == campaign_id)))


def error_counts(session: Session, campaign_id: int) -> dict[int, dict[str, int]]:
    """Failures by code, per step id."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for row in session.scalars(select(CampaignErrorCount).where(CampaignErrorCount.campaign_id == campaign_id)):
        out[row.step_id][row.code] = row.count
    return out


def totals(rows: Iterable[CampaignStat]) -> dict[str, int]:
    out = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        for name in COUNTERS:
            out[name] += getattr(row, name)
    return out


def rates(counts: Mapping[str, Any]) -> dict[str, float | None]:
    """Funnel rates: delivery and conversion over sent, read and response over delivered."""

    def ratio(a: str, b: str) -> float | None:
        return round(counts[a] / counts[b], 4) if counts[b] else None

    return {
        "delivery_rate": ratio("delivered", "sent"),
        "read_rate": ratio("read", "delivered"),
        "response_rate": ratio("replied", "delivered"),
        "conversion_rate": ratio("converted", "sent"),
        "failure_rate": round(counts["failed"] / (counts["sent"] + counts["failed"]), 4)
        if counts["sent"] + counts["failed"]
        else None,
    }


def throughput_key(campaign_id: int, minute: int) -> str:
    return f"camp:thr:{campaign_id}:{minute}"


def count_step_messages(session: Session, campaign_id: int) -> int:
    """How many messages the campaign created (for tests and reconciliation, not for the stats endpoint)."""
    return int(session.scalar(select(func.count()).select_from(Message).where(Message.campaign_id == campaign_id)) or 0)
