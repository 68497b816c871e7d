"""Opted-out numbers of the acting tenant. Re-subscribing is POST /contacts/{id}/opt-in, never a DELETE."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from greenline.auth.dependencies import require
from greenline.core.deps import SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.models import Unsubscriber
from greenline.optouts import service
from greenline.optouts.schemas import UnsubscriberCreate, UnsubscriberOut

router = APIRouter(prefix="/unsubscribers", tags=["opt-outs"])

CanRead = Annotated[Principal, Depends(require(Permission.contacts_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.contacts_write))]
PhonePath = Annotated[str, Path(min_length=1, max_length=40, description="The number, E.164 or national format")]


@router.post(
    "/",
    response_model=UnsubscriberOut,
    status_code=201,
    responses={200: {"model": UnsubscriberOut, "description": "Already opted out"}, **responses(401, 403, 422)},
)
def create_unsubscriber(
    session: SessionDep, principal: CanWrite, body: UnsubscriberCreate, response: Response
) -> Unsubscriber:
    """Opt a number out of every marketing send of the tenant (idempotent: 200 when it already was)."""
    row, created = service.opt_out(
        session,
        body.phone,
        reason=body.reason,
        source=body.source or service.consent_source(principal),
        campaign_id=body.campaign_id,
        actor_user_id=principal.user_id,
    )
    if not created:
        response.status_code = 200
    return row


@router.get("/", response_model=Page[UnsubscriberOut], responses=responses(401, 403, 422))
def list_unsubscribers(
    session: SessionDep,
    _: CanRead,
    q: Annotated[str | None, Query(max_length=40, description="Digits anywhere in the number")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[UnsubscriberOut]:
    """Opted-out numbers, newest first (keyset-paginated)."""
    return service.list_unsubscribers(session, q=q, cursor=cursor, limit=limit)


@router.get("/{phone}", response_model=UnsubscriberOut, responses=responses(401, 403, 404, 422))
def get_unsubscriber(session: SessionDep, _: CanRead, phone: PhonePath) -> Unsubscriber:
    """The opt-out of one number; 404 when it is not opted out."""
    return service.get_unsubscriber(session, phone)
