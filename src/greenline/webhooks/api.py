"""Tenant webhook endpoints (CRUD, secret rotation, test events) and the delivery log (seed: logs, resend, delete).

Item routes take integer ids only (`{id:int}`), so fixed paths under /webhooks/ owned by other
routers, such as the WhatsApp and gateway receivers, never match them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from greenline.auth.dependencies import require
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import InvalidInput, responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import DbId, IdPath
from greenline.models import WebhookDelivery, WebhookEndpoint
from greenline.webhooks import service
from greenline.webhooks.events import EVENT_DESCRIPTIONS, DeliveryStatus
from greenline.webhooks.schemas import (
    EventTypeOut,
    ResendRequest,
    ResendResult,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

CanManage = Annotated[Principal, Depends(require(Permission.webhooks_manage))]
LogLimit = Annotated[int, Query(ge=1, le=100, description="Page size")]
EventTypeQuery = Annotated[str | None, Query(min_length=1, max_length=64, description="Only this event type")]


def _created(endpoint: WebhookEndpoint, secret: str) -> WebhookEndpointCreated:
    return WebhookEndpointCreated.model_validate(
        {**WebhookEndpointOut.model_validate(endpoint).model_dump(), "secret": secret}
    )


@router.get("/event-types", response_model=list[EventTypeOut], responses=responses(401, 403))
def list_event_types(_: CanManage) -> list[EventTypeOut]:
    """The event types an endpoint can subscribe to (`*` subscribes to all)."""
    types = [EventTypeOut(type=str(t), description=d) for t, d in EVENT_DESCRIPTIONS.items()]
    return [*types, EventTypeOut(type="*", description="Every event type, including ones added later.")]


@router.get("/logs", response_model=Page[WebhookDeliveryOut], responses=responses(401, 403, 422))
def list_webhook_logs(
    session: SessionDep,
    _: CanManage,
    endpoint_id: Annotated[DbId | None, Query(description="Only this endpoint")] = None,
    status: Annotated[DeliveryStatus | None, Query(description="Only this delivery status")] = None,
    event_type: EventTypeQuery = None,
    cursor: Cursor = None,
    limit: LogLimit = 50,
) -> Page[WebhookDeliveryOut]:
    """The delivery log: deliveries newest first, each with every HTTP attempt (keyset-paginated)."""
    return service.list_deliveries(
        session, endpoint_id=endpoint_id, status=status, event_type=event_type, cursor=cursor, limit=limit
    )


@router.post("/resend", response_model=ResendResult, responses=responses(401, 403, 422))
def resend_webhooks(session: SessionDep, _: CanManage, body: ResendRequest) -> ResendResult:
    """Queue deliveries again now (`delivery_ids`, up to 100, or `delivery_id`) as a new attempt sequence."""
    ids = body.ids()
    if not ids:
        raise InvalidInput("delivery_ids", "give delivery_ids (up to 100) or delivery_id")
    return ResendResult(requeued=service.resend(session, ids))


@router.post("/", response_model=WebhookEndpointCreated, status_code=201, responses=responses(401, 403, 409, 422))
def create_webhook(
    session: SessionDep, runtime: RuntimeDep, _: CanManage, body: WebhookEndpointCreate
) -> WebhookEndpointCreated:
    """Register an endpoint for event types; the response holds the only copy of its signing secret."""
    return _created(*service.create_endpoint(session, runtime.secrets, body))


@router.get("/", response_model=Page[WebhookEndpointOut], responses=responses(401, 403, 422))
def list_webhooks(
    session: SessionDep, _: CanManage, cursor: Cursor = None, limit: Limit = 50
) -> Page[WebhookEndpointOut]:
    """The tenant's webhook endpoints (never their secrets)."""
    return service.list_endpoints(session, cursor=cursor, limit=limit)


@router.get("/{webhook_id:int}", response_model=WebhookEndpointOut, responses=responses(401, 403, 404, 422))
def get_webhook(session: SessionDep, _: CanManage, webhook_id: IdPath) -> WebhookEndpoint:
    """One webhook endpoint (never its secret)."""
    return service.get_endpoint(session, webhook_id)


@router.put("/{webhook_id:int}", response_model=WebhookEndpointOut, responses=responses(401, 403, 404, 422))
def update_webhook(
    session: SessionDep, _: CanManage, webhook_id: IdPath, body: WebhookEndpointUpdate
) -> WebhookEndpoint:
    """Change an endpoint's URL, event types, description or active flag."""
    return service.update_endpoint(session, webhook_id, body)


@router.delete("/{webhook_id:int}", status_code=204, responses=responses(401, 403, 404, 422))
def delete_webhook(session: SessionDep, _: CanManage, webhook_id: IdPath) -> None:
    """Delete an endpoint together with its delivery log."""
    service.delete_endpoint(session, webhook_id)


@router.post(
    "/{webhook_id:int}/rotate-secret", response_model=WebhookEndpointCreated, responses=responses(401, 403, 404, 422)
)
def rotate_webhook_secret(
    session: SessionDep, runtime: RuntimeDep, _: CanManage, webhook_id: IdPath
) -> WebhookEndpointCreated:
    """Replace the signing secret; the response holds the only copy of the new one."""
    return _created(*service.rotate_secret(session, runtime.secrets, webhook_id))


@router.post(
    "/{webhook_id:int}/test",
    response_model=WebhookDeliveryOut,
    status_code=202,
    responses=responses(401, 403, 404, 409, 422),
)
def send_test_webhook(session: SessionDep, _: CanManage, webhook_id: IdPath) -> WebhookDelivery:
    """Queue a `webhook.test` event to this endpoint; follow it in the delivery log."""
    return service.queue_test(session, webhook_id)
