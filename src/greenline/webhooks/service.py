"""Webhook endpoints of a tenant, the events they receive, and their delivery log.

Other domains call `emit(session, event_type, data)` inside their own unit of work: it queues one
delivery per subscribed endpoint, and the `webhooks.deliver` job sends them after the commit.
Nothing is sent inside a transaction, and a rolled-back change emits nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, cast

import structlog
from pydantic_core import to_jsonable_python
from sqlalchemy import CursorResult, event, func, insert, select, update
from sqlalchemy.orm import Session

from greenline.core.crypto import SecretBox
from greenline.core.db import session_tenant, utcnow
from greenline.core.errors import Conflict, NotFound
from greenline.core.jobs import enqueue
from greenline.core.pagination import Page, keyset_page, split_page
from greenline.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from greenline.webhooks.events import TEST_EVENT, DeliveryStatus, WebhookEventType, is_subscribed
from greenline.webhooks.schemas import (
    WebhookAttemptOut,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)
from greenline.webhooks.signing import generate_secret

log = structlog.get_logger(__name__)

DELIVER_JOB = "webhooks.deliver"
# Every emit reads the tenant's active endpoints, so their number stays small.
MAX_ENDPOINTS_PER_TENANT = 20
_EMITTABLE = frozenset(WebhookEventType)
_ENQUEUED = "greenline.webhooks.enqueued"
_ACTIVE = "greenline.webhooks.active_endpoints"


# --- endpoints -------------------------------------------------------------------


def create_endpoint(session: Session, box: SecretBox, data: WebhookEndpointCreate) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; the returned signing secret is stored encrypted and never shown again."""
    count = session.scalar(select(func.count()).select_from(WebhookEndpoint)) or 0
    if count >= MAX_ENDPOINTS_PER_TENANT:
        raise Conflict(f"a tenant can have at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints")
    secret = generate_secret()
    endpoint = WebhookEndpoint(
        url=data.url,
        description=data.description,
        event_types=data.event_types,
        is_active=data.is_active,
        secret_encrypted=box.encrypt(secret),
    )
    session.add(endpoint)
    session.flush()
    log.info("webhooks.endpoint_created", endpoint_id=endpoint.id, event_types=endpoint.event_types)
    return endpoint, secret


def list_endpoints(session: Session, *, cursor: str | None, limit: int) -> Page[WebhookEndpointOut]:
    """The tenant's endpoints, oldest first."""
    stmt = keyset_page(select(WebhookEndpoint), [WebhookEndpoint.id.expression], cursor, limit, coerce=[int])
    items, next_cursor = split_page(session.scalars(stmt).all(), limit, lambda e: [e.id])
    return Page(items=[WebhookEndpointOut.model_validate(e) for e in items], next_cursor=next_cursor)


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook endpoint not found")
    return endpoint


def update_endpoint(session: Session, endpoint_id: int, data: WebhookEndpointUpdate) -> WebhookEndpoint:
    """Change the given fields; disabling an endpoint stops its pending deliveries at their next attempt."""
    endpoint = get_endpoint(session, endpoint_id)
    for field in data.model_fields_set:
        setattr(endpoint, field, getattr(data, field))
    session.flush()
    return endpoint


def delete_endpoint(session: Session, endpoint_id: int) -> None:
    """Delete an endpoint with its deliveries and attempts (the foreign keys cascade)."""
    session.delete(get_endpoint(session, endpoint_id))
    session.flush()


def rotate_secret(session: Session, box: SecretBox, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """Replace the signing secret; requests are signed with the new one from the next attempt on."""
    endpoint = get_endpoint(session, endpoint_id)
    secret = generate_secret()
    endpoint.secret_encrypted = box.encrypt(secret)
    session.flush()
    log.info("webhooks.secret_rotated", endpoint_id=endpoint.id)
    return endpoint, secret


# --- emitting ----------------------------------------------------------------------


def event_payload(tenant_id: int, event_type: str, data: Mapping[str, Any], occurred_at: dt.datetime) -> dict[str, Any]:
    """The JSON body every endpoint receives for one event."""
    return {
        "id": uuid.uuid4().hex,
        "type": event_type,
        "created_at": occurred_at.astimezone(dt.UTC).isoformat(),
        "tenant_id": tenant_id,
        "data": to_jsonable_python(dict(data)),
    }


def _enqueue_delivery(session: Session, tenant_id: int) -> None:
    # One job per tenant and transaction, however many events it emits.
    queued: set[int] = session.info.setdefault(_ENQUEUED, set())
    if tenant_id not in queued:
        queued.add(tenant_id)
        enqueue(session, DELIVER_JOB, tenant_id=tenant_id)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_per_transaction(session: Session, *_: Any) -> None:
    session.info.pop(_ENQUEUED, None)
    session.info.pop(_ACTIVE, None)


def emit(session: Session, event_type: str, data: Mapping[str, Any], *, occurred_at: dt.datetime | None = None) -> int:
    """Queue `event_type` for every active endpoint of the session's tenant subscribed to it; returns how many."""
    if event_type not in _EMITTABLE:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    tenant_id = _tenant(session)
    endpoints = session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.is_active.is_(True))
    ).all()
    targets = [endpoint_id for endpoint_id, types in endpoints if is_subscribed(types, event_type)]
    if not targets:
        return 0
    return _queue(session, tenant_id, event_type, [(data, occurred_at or utcnow())], targets)


def subscribed_endpoints(session: Session, event_type: str) -> list[int]:
    """Active endpoints of the session's tenant subscribed to `event_type`, read once per transaction.

    For hot paths that emit in batches (status updates): they ask first and skip all the work of
    building events when nobody listens. The answer is forgotten at commit or rollback, so a change
    to the endpoints applies from the next batch on.
    """
    tenant_id = _tenant(session)
    cache: dict[int, list[tuple[int, list[str]]]] = session.info.setdefault(_ACTIVE, {})
    if tenant_id not in cache:
        rows = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.event_types).where(WebhookEndpoint.is_active.is_(True))
        ).all()
        cache[tenant_id] = [(endpoint_id, list(types)) for endpoint_id, types in rows]
    return [endpoint_id for endpoint_id, types in cache[tenant_id] if is_subscribed(types, event_type)]


def emit_many(
    session: Session, event_type: str, events: Sequence[tuple[Mapping[str, Any], dt.datetime]], endpoint_ids: list[int]
) -> int:
    """Queue many events of one type to `endpoint_ids` (from `subscribed_endpoints`) with one INSERT.

    Each `(data, occurred_at)` becomes one event with its own id, shared by every endpoint's copy.
    Returns the number of deliveries queued.
    """
    if event_type not in _EMITTABLE:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not events or not endpoint_ids:
        return 0
    return _queue(session, _tenant(session), event_type, events, endpoint_ids)


def _tenant(session: Session) -> int:
    tenant_id = session_tenant(session)
    if tenant_id is None:
        raise ValueError("emitting webhook events needs a session bound to a tenant")
    return tenant_id


def _queue(
    session: Session,
    tenant_id: int,
    event_type: str,
    events: Sequence[tuple[Mapping[str, Any], dt.datetime]],
    endpoint_ids: list[int],
) -> int:
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for data, occurred_at in events:
        payload = event_payload(tenant_id, event_type, data, occurred_at)
        rows.extend(
            {
                "tenant_id": tenant_id,
                "endpoint_id": endpoint_id,
                "event_id": payload["id"],
                "event_type": event_type,
                "payload": payload,
                "status": DeliveryStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in endpoint_ids
        )
    session.execute(insert(WebhookDelivery), rows)
    _enqueue_delivery(session, tenant_id)
    return len(rows)


def queue_test(session: Session, endpoint_id: int) -> WebhookDelivery:
    """Queue a `webhook.test` event to one endpoint, whatever it subscribes to."""
    endpoint = get_endpoint(session, endpoint_id)
    if not endpoint.is_active:
        raise Conflict("the endpoint is disabled; enable it to send a test event")
    now = utcnow()
    data = {"endpoint_id": endpoint.id, "message": "Test event from Greenline"}
    payload = event_payload(endpoint.tenant_id, TEST_EVENT, data, now)
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id=payload["id"],
        event_type=TEST_EVENT,
        payload=payload,
        status=DeliveryStatus.pending,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    _enqueue_delivery(session, endpoint.tenant_id)
    return delivery


# --- delivery log and resend ----------------------------------------------------------


def list_deliveries(
    session: Session,
    *,
    endpoint_id: int | None,
    status: DeliveryStatus | None,
    event_type: str | None,
    cursor: str | None,
    limit: int,
) -> Page[WebhookDeliveryOut]:
    """Deliveries newest first, each with its attempts, filtered by endpoint, status or event type."""
    stmt = select(WebhookDelivery)
    if endpoint_id is not None:
        stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
    if status is not None:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type is not None:
        stmt = stmt.where(WebhookDelivery.event_type == event_type)
    stmt = keyset_page(stmt, [WebhookDelivery.id.expression], cursor, limit, descending=True, coerce=[int])
    deliveries, next_cursor = split_page(session.scalars(stmt).all(), limit, lambda d: [d.id])
    history: dict[int, list[WebhookAttemptOut]] = defaultdict(list)
    if deliveries:
        attempts = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([d.id for d in deliveries]))
            .order_by(WebhookAttempt.id)
        )
        for attempt in attempts:
            history[attempt.delivery_id].append(WebhookAttemptOut.model_validate(attempt))
    items = [
        WebhookDeliveryOut.model_validate(d).model_copy(update={"attempt_history": history[d.id]}) for d in deliveries
    ]
    return Page(items=items, next_cursor=next_cursor)


def resend(session: Session, delivery_ids: list[int]) -> int:
    """Queue deliveries again now, as a new attempt sequence; returns how many were queued.

    Unknown ids, other tenants' deliveries and deliveries of disabled endpoints are skipped.
    The attempt log keeps every earlier attempt.
    """
    tenant_id = session_tenant(session)
    active = select(WebhookEndpoint.id).where(WebhookEndpoint.is_active.is_(True))
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.endpoint_id.in_(active))
        .values(status=DeliveryStatus.pending, attempts=0, next_attempt_at=utcnow(), delivered_at=None)
        .execution_options(synchronize_session=False)
    )
    count = cast(CursorResult[Any], result).rowcount
    if count and tenant_id is not None:
        _enqueue_delivery(session, tenant_id)
    log.info("webhooks.resent", requested=len(delivery_ids), requeued=count)
    return count
