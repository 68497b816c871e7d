"""Sending queued deliveries: claim due rows under a lease, POST them (sender.py), record every attempt.

Claiming pushes `next_attempt_at` past the send timeout (the lease) and commits before any HTTP
call, so two workers never send the same attempt concurrently, and a worker that dies mid-batch
only delays its rows until the lease expires. Results are written with a compare-and-set on the
lease, so a stale worker never overwrites a delivery that was re-queued (resent) meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.orm import Session

from greenline.core.crypto import SecretBox
from greenline.core.db import unscoped, utcnow
from greenline.core.runtime import Runtime
from greenline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from greenline.webhooks.events import DeliveryStatus
from greenline.webhooks.sender import Claimed, Clock, Outcome, send_all

log = structlog.get_logger(__name__)

BATCH_SIZE = 50
MAX_BATCHES_PER_RUN = 20
# Longer than the worst batch (BATCH_SIZE / sender.CONCURRENCY rounds of sender.TIMEOUT_SECONDS), so a lease
# outlives its sends.
LEASE = dt.timedelta(seconds=120)
# Waits after the 1st, 2nd, ... failed attempt: about 3 days in all, then the delivery is `failed`.
RETRY_DELAYS_SECONDS = (10, 30, 120, 600, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS_SECONDS) + 1
JITTER = 0.2

_random = secrets.SystemRandom()


def retry_delay(failed_attempts: int) -> dt.timedelta | None:
    """The wait before the next attempt (±20 % jitter), or None when the delivery gives up."""
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS_SECONDS[failed_attempts - 1]
    return dt.timedelta(seconds=base * _random.uniform(1 - JITTER, 1 + JITTER))


def _due(tenant_id: int | None, now: dt.datetime) -> list[ColumnElement[bool]]:
    conditions = [WebhookDelivery.status == DeliveryStatus.pending, WebhookDelivery.next_attempt_at <= now]
    if tenant_id is not None:
        conditions.append(WebhookDelivery.tenant_id == tenant_id)
    return conditions


def claim(
    session: Session, box: SecretBox, *, tenant_id: int | None, now: dt.datetime, limit: int
) -> tuple[list[Claimed], int]:
    """Lease up to `limit` due deliveries; returns the sendable ones and how many rows were claimed."""
    lease_until = now + LEASE
    due = (
        select(WebhookDelivery.id)
        .where(*_due(tenant_id, now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if session.info.get("postgres"):
        # SKIP LOCKED: concurrent workers take disjoint rows instead of queueing behind each other.
        ids = list(session.scalars(due.with_for_update(skip_locked=True, of=WebhookDelivery)))
        if ids:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(next_attempt_at=lease_until)
                .execution_options(synchronize_session=False)
            )
    else:
        # SQLite has one writer at a time: a single UPDATE that re-checks "still due" is a compare-and-set
        # on next_attempt_at, and as the transaction's first statement it never works on a stale snapshot.
        ids = list(
            session.scalars(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(due.scalar_subquery()), *_due(tenant_id, now))
                .values(next_attempt_at=lease_until)
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            )
        )
    if not ids:
        return [], 0
    return _load(session, box, ids, lease_until), len(ids)


def _load(session: Session, box: SecretBox, ids: list[int], lease_until: dt.datetime) -> list[Claimed]:
    rows = session.execute(
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id.in_(ids))
    ).all()
    disabled = [delivery.id for delivery, endpoint in rows if not endpoint.is_active]
    if disabled:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(disabled))
            .values(status=DeliveryStatus.failed, next_attempt_at=None, last_error="the endpoint is disabled")
            .execution_options(synchronize_session=False)
        )
    claimed = []
    for delivery, endpoint in rows:
        if not endpoint.is_active:
            continue
        try:
            secret: str | None = box.decrypt(endpoint.secret_encrypted)
        except ValueError:
            secret = None
        claimed.append(
            Claimed(
                delivery_id=delivery.id,
                tenant_id=delivery.tenant_id,
                url=endpoint.url,
                secret=secret,
                event_type=delivery.event_type,
                # Serialized once per attempt; the signature covers exactly these bytes.
                body=json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode(),
                attempts=delivery.attempts,
                lease_until=lease_until,
            )
        )
    return claimed


def _next_state(outcome: Outcome) -> dict[str, Any]:
    attempts = outcome.claimed.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.ok:
        # A 2xx is acceptance, even if reading the rest of the response then timed out.
        return {
            **values,
            "last_error": None,
            "status": DeliveryStatus.delivered,
            "delivered_at": outcome.attempted_at,
            "next_attempt_at": None,
        }
    delay = retry_delay(attempts)
    if delay is None:
        return {**values, "status": DeliveryStatus.failed, "next_attempt_at": None}
    return {**values, "next_attempt_at": outcome.attempted_at + delay}


def record(session: Session, outcomes: list[Outcome]) -> None:
    """Store every attempt and move each delivery on: delivered, retry later, or failed."""
    session.execute(
        insert(WebhookAttempt),
        [
            {
                "tenant_id": o.claimed.tenant_id,
                "delivery_id": o.claimed.delivery_id,
                "attempted_at": o.attempted_at,
                "status_code": o.status_code,
                "duration_ms": o.duration_ms,
                "error": o.error,
                "response_excerpt": o.excerpt,
            }
            for o in outcomes
        ],
    )
    for outcome in outcomes:
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == outcome.claimed.delivery_id,
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.next_attempt_at == outcome.claimed.lease_until,
            )
            .values(**_next_state(outcome))
            .execution_options(synchronize_session=False)
        )
        log.info(
            "webhooks.attempted",
            delivery_id=outcome.claimed.delivery_id,
            status_code=outcome.status_code,
            ok=outcome.ok,
            error=outcome.error,
        )


@contextmanager
def _session(runtime: Runtime, tenant_id: int | None) -> Iterator[Session]:
    with runtime.task_session(tenant_id) as session:
        if tenant_id is not None:
            yield session
            return
        # The retry sweep serves every tenant: it only sends deliveries that each tenant's own unit of
        # work queued, and every row it writes carries that delivery's tenant_id.
        with unscoped(session):
            yield session


def deliver_due(runtime: Runtime, *, tenant_id: int | None = None, now: dt.datetime | None = None) -> int:
    """Send due deliveries of one tenant (or of all when None) in leased batches; returns the attempts made.

    `now` fixes the clock (tests drive retries with it); by default it is the current time.
    """
    clock: Clock = (lambda: now) if now is not None else utcnow
    attempts = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        with _session(runtime, tenant_id) as session:
            items, claimed = claim(session, runtime.secrets, tenant_id=tenant_id, now=clock(), limit=BATCH_SIZE)
        if items:
            outcomes = asyncio.run(send_all(items, clock))
            with _session(runtime, tenant_id) as session:
                record(session, outcomes)
            attempts += len(outcomes)
        if claimed < BATCH_SIZE:
            break
    return attempts
