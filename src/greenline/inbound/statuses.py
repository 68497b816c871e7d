"""Apply delivery statuses to outbound messages: monotonic, idempotent, set-based.

sent → delivered → read only ever move forward: a late `delivered` never overwrites `read`, a
duplicate changes nothing, and `failed` only applies to a message not yet delivered. Timestamps of
each transition are filled once (the first report wins). Statuses for message ids we do not know
are kept in `unmatched_statuses` for reconciliation (the webhook can beat our own send call).

A message whose send outcome was lost (`unknown`: the worker died mid-send or the call timed out)
adopts the provider id of a status that names it by our own id (Cloud API `biz_opaque_callback_data`,
which every send carries), if the status came through the same tenant's same sender number; statuses
that arrived before it was marked `unknown` wait in `unmatched_statuses` with that id (`adopt_unmatched`).

Each status that moves a message forward is a `message.status` tenant webhook event, but only for a
tenant with an active endpoint subscribed to it: the endpoints are read once per batch, and a tenant
without one pays nothing beyond that read. The batch's messages are locked first, in id order (on
PostgreSQL), so the transitions computed here are exactly those the UPDATEs make whatever another
processor does meanwhile, and concurrent batches never deadlock; the events are written with one INSERT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, case, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from greenline.channels.base import StatusUpdate
from greenline.core import events as domain_events
from greenline.core.db import utcnow
from greenline.models import Message, UnmatchedStatus
from greenline.models.enums import Direction, MessageStatus
from greenline.webhooks import service as webhooks
from greenline.webhooks.events import WebhookEventType

_BEFORE_SENT = (MessageStatus.pending, MessageStatus.queued, MessageStatus.sending, MessageStatus.unknown)
# For each reported status: the stored statuses it may replace, and the timestamp column it fills.
_TRANSITIONS: dict[str, tuple[tuple[MessageStatus, ...], str]] = {
    "sent": ((*_BEFORE_SENT, MessageStatus.failed), "sent_at"),
    "delivered": ((*_BEFORE_SENT, MessageStatus.sent, MessageStatus.failed), "delivered_at"),
    "read": ((*_BEFORE_SENT, MessageStatus.sent, MessageStatus.delivered, MessageStatus.failed), "read_at"),
    "failed": ((*_BEFORE_SENT, MessageStatus.sent), "failed_at"),
}


@dataclass
class Applied:
    matched: int
    unmatched: int


def apply_statuses(
    session: Session, tenant_id: int, sender_number_id: int | None, updates: Sequence[StatusUpdate]
) -> Applied:
    """Apply a batch of status updates for one tenant with one SELECT and one executemany per status."""
    usable = [u for u in updates if u.status in _TRANSITIONS]
    if not usable:
        return Applied(0, 0)
    table = cast(Table, Message.__table__)
    endpoints = webhooks.subscribed_endpoints(session, WebhookEventType.message_status)
    # Locked in id order up front: every later statement of this batch touches only these rows, so two
    # processors applying overlapping batches queue behind each other instead of deadlocking.
    known = _known_messages(session, tenant_id, {u.provider_message_id for u in usable}, lock=True)
    orphans = [u for u in usable if u.provider_message_id not in known and u.client_ref]
    if orphans and sender_number_id is not None and (adopted := _adopt(session, tenant_id, sender_number_id, orphans)):
        known.update(_known_messages(session, tenant_id, set(adopted), lock=True))
    current = {row.id: row.status for rows in known.values() for row in rows}
    events: list[tuple[Mapping[str, Any], dt.datetime]] = []
    for status, (replaceable, column) in _TRANSITIONS.items():
        matching = [u for u in usable if u.status == status and u.provider_message_id in known]
        if not matching:
            continue
        rows = [
            {
                "pid": u.provider_message_id,
                "at": u.occurred_at,
                "code": str(u.error_code) if u.error_code is not None else None,
                "reason": (u.error_message or "")[:500] or None,
            }
            for u in matching
        ]
        # Plain comparisons: an expanding IN list cannot be used in an executemany.
        applies = or_(*(table.c.status == literal_column(f"'{s.value}'") for s in replaceable))
        values = {
            "status": case((applies, status), else_=table.c.status),
            column: func.coalesce(table.c[column], bindparam("at")),
        }
        if status == "failed":
            # A failure reported after delivery is stale (reordered webhooks): record nothing of it.
            values[column] = case((applies, func.coalesce(table.c[column], bindparam("at"))), else_=table.c[column])
            values["error_code"] = case((applies, bindparam("code")), else_=table.c.error_code)
            values["error_message"] = case((applies, bindparam("reason")), else_=table.c.error_message)
        stmt = (
            update(table)
            .where(
                table.c.tenant_id == tenant_id,
                table.c.provider_message_id == bindparam("pid"),
                table.c.direction == Direction.outbound.value,
            )
            .values(values)
        )
        session.execute(stmt, rows)
        if endpoints:
            # The same rule as the UPDATE, row by row in the same order: duplicates and stale reports emit nothing.
            for u in matching:
                for message in known[u.provider_message_id]:
                    if current[message.id] in replaceable:
                        current[message.id] = MessageStatus(status)
                        events.append((_event_data(message, u, sender_number_id), u.occurred_at))
    webhooks.emit_many(session, WebhookEventType.message_status, events, endpoints)
    # Campaign counters move in the same unit of work (campaigns/stats.py counts each milestone once).
    domain_events.emit(session, "messages.statuses_applied", {"tenant_id": tenant_id, "provider_message_ids": [
        u.provider_message_id for u in usable if u.provider_message_id in known]})  # fmt: skip
    unknown = [u for u in usable if u.provider_message_id not in known]
    if unknown:
        session.execute(
            cast(Table, UnmatchedStatus.__table__).insert(),
            [
                {
                    "tenant_id": tenant_id,
                    "sender_number_id": sender_number_id,
                    "provider_message_id": u.provider_message_id,
                    "status": u.status,
                    "occurred_at": u.occurred_at,
                    "error_code": str(u.error_code) if u.error_code is not None else None,
                    "error_message": (u.error_message or "")[:500] or None,
                    "client_ref": u.client_ref,
                    "created_at": utcnow(),
                }
                for u in unknown
            ],
        )
    return Applied(len(usable) - len(unknown), len(unknown))


def _known_messages(session: Session, tenant_id: int, ids: set[str], *, lock: bool) -> dict[str, list[Row[Any]]]:
    """The tenant's outbound messages with these provider ids; locked in id order when `lock` (PostgreSQL)."""
    stmt = select(
        Message.id,
        Message.provider_message_id,
        Message.status,
        Message.contact_id,
        Message.conversation_id,
        Message.campaign_id,
    ).where(
        Message.tenant_id == tenant_id, Message.provider_message_id.in_(ids), Message.direction == Direction.outbound
    )
    if lock:
        stmt = stmt.order_by(Message.id).with_for_update()
    known: dict[str, list[Row[Any]]] = {}
    for row in session.execute(stmt).all():
        known.setdefault(str(row.provider_message_id), []).append(cast("Row[Any]", row))
    return known


def _adopt(session: Session, tenant_id: int, sender_number_id: int, updates: Sequence[StatusUpdate]) -> list[str]:
    """Give `unknown` messages named by these statuses' `client_ref` their provider id; returns the ids adopted.

    Only the tenant's own outbound messages sent from this number, still `unknown` and without a provider
    id: a status can never take over a message that has one, or another number's or tenant's message.
    """
    claims: dict[int, tuple[str, dt.datetime | None]] = {}
    for u in updates:
        ref = u.client_ref or ""
        if not ref.isdigit() or len(ref) > 18:
            continue
        provider_id, sent_at = claims.get(int(ref), (u.provider_message_id, None))
        if provider_id != u.provider_message_id:
            continue  # two provider ids for one message of ours: keep the first, the other stays unmatched
        if u.status != "failed":  # a status other than failed means WhatsApp accepted it by then
            sent_at = min(sent_at, u.occurred_at) if sent_at else u.occurred_at
        claims[int(ref)] = (provider_id, sent_at)
    if not claims:
        return []
    ids = list(
        session.scalars(
            select(Message.id)
            .where(
                Message.tenant_id == tenant_id,
                Message.id.in_(claims),
                Message.direction == Direction.outbound,
                Message.sender_number_id == sender_number_id,
                Message.status == MessageStatus.unknown,
                Message.provider_message_id.is_(None),
            )
            .order_by(Message.id)
            .with_for_update()
        )
    )
    table = cast(Table, Message.__table__)
    for message_id in ids:
        provider_id, sent_at = claims[message_id]
        session.execute(
            update(table)
            .where(table.c.id == message_id)
            .values(provider_message_id=provider_id, sent_at=func.coalesce(table.c.sent_at, sent_at),
                    error_code=None, error_message=None)
        )  # fmt: skip
    if ids:
        # Campaign counters: these are no longer `unknown` (campaigns/hooks.py).
        domain_events.emit(session, "messages.adopted", {"tenant_id": tenant_id, "message_ids": ids})
    return [claims[message_id][0] for message_id in ids]


def adopt_unmatched(session: Session, tenant_id: int, message_ids: Sequence[int]) -> int:
    """Apply statuses that waited, unmatched, for these messages just marked `unknown`; returns how many."""
    if not message_ids:
        return 0
    rows = session.execute(
        select(
            UnmatchedStatus.provider_message_id,
            UnmatchedStatus.client_ref,
            UnmatchedStatus.sender_number_id,
            UnmatchedStatus.status,
            UnmatchedStatus.occurred_at,
        )
        .where(
            UnmatchedStatus.tenant_id == tenant_id,
            UnmatchedStatus.client_ref.in_([str(i) for i in message_ids]),
            UnmatchedStatus.resolved_at.is_(None),
        )
        .order_by(UnmatchedStatus.id)
    ).all()
    by_sender: dict[int, list[StatusUpdate]] = {}
    for row in rows:
        if row.sender_number_id is not None:
            by_sender.setdefault(row.sender_number_id, []).append(
                StatusUpdate(row.provider_message_id, row.status, row.occurred_at, client_ref=row.client_ref)
            )
    adopted = [pid for sender, updates in by_sender.items() for pid in _adopt(session, tenant_id, sender, updates)]
    return reconcile_unmatched(session, tenant_id, adopted)


def _event_data(message: Row[Any], update: StatusUpdate, sender_number_id: int | None) -> dict[str, Any]:
    """The `data` of one `message.status` event (docs/webhooks.md)."""
    failed = update.status == "failed"
    return {
        "message_id": message.id,
        "provider_message_id": update.provider_message_id,
        "contact_id": message.contact_id,
        "conversation_id": message.conversation_id,
        "campaign_id": message.campaign_id,
        "sender_number_id": sender_number_id,
        "status": update.status,
        "timestamp": update.occurred_at.astimezone(dt.UTC).isoformat(),
        "error": {"code": update.error_code, "reason": update.error_message} if failed else None,
    }


def reconcile_unmatched(session: Session, tenant_id: int, provider_message_ids: Sequence[str]) -> int:
    """Apply statuses that arrived before we learned these provider ids; returns how many were applied."""
    if not provider_message_ids:
        return 0
    rows = session.scalars(
        select(UnmatchedStatus).where(
            UnmatchedStatus.tenant_id == tenant_id,
            UnmatchedStatus.provider_message_id.in_(provider_message_ids),
            UnmatchedStatus.resolved_at.is_(None),
        )
    ).all()
    if not rows:
        return 0
    updates = [
        StatusUpdate(
            provider_message_id=r.provider_message_id,
            status=r.status,
            occurred_at=r.occurred_at,
            error_code=int(r.error_code) if r.error_code and r.error_code.isdigit() else None,
            error_message=r.error_message,
            client_ref=r.client_ref,
        )
        for r in rows
    ]
    applied = apply_statuses(session, tenant_id, None, updates)
    now = utcnow()
    for row in rows:
        row.resolved_at = now
    return applied.matched
