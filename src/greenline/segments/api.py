"""Segments: saved contact filters, their live counts and previews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from greenline.auth.dependencies import require
from greenline.contacts.schemas import ContactOut
from greenline.core.deps import SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.models import Segment
from greenline.segments import service
from greenline.segments.schemas import RulesCount, SegmentCount, SegmentCreate, SegmentOut, SegmentUpdate

router = APIRouter(prefix="/segments", tags=["segments"])

CanRead = Annotated[Principal, Depends(require(Permission.contacts_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.contacts_write))]


@router.post("/", response_model=SegmentOut, status_code=201, responses=responses(401, 403, 409, 422))
def create_segment(session: SessionDep, principal: CanWrite, body: SegmentCreate) -> Segment:
    """Save a rule tree as a named segment (names are unique in the tenant)."""
    return service.create_segment(session, principal, body)


@router.get("/", response_model=Page[SegmentOut], responses=responses(401, 403, 422))
def list_segments(session: SessionDep, _: CanRead, cursor: Cursor = None, limit: Limit = 50) -> Page[SegmentOut]:
    """The tenant's segments, newest first (keyset-paginated)."""
    return service.list_segments(session, cursor=cursor, limit=limit)


@router.post("/count", response_model=SegmentCount, responses=responses(401, 403, 422))
def count_rules(session: SessionDep, _: CanRead, body: RulesCount) -> SegmentCount:
    """Count the contacts an unsaved rule tree matches (live count for the segment builder)."""
    return SegmentCount(count=service.count_rules(session, body.rules))


@router.get("/{segment_id}", response_model=SegmentOut, responses=responses(401, 403, 404))
def get_segment(session: SessionDep, _: CanRead, segment_id: IdPath) -> Segment:
    """One segment and its rule tree."""
    return service.get_segment(session, segment_id)


@router.put("/{segment_id}", response_model=SegmentOut, responses=responses(401, 403, 404, 409, 422))
def update_segment(session: SessionDep, _: CanWrite, segment_id: IdPath, body: SegmentUpdate) -> Segment:
    """Change a segment's name, description or rules (only the fields sent)."""
    return service.update_segment(session, segment_id, body)


@router.delete("/{segment_id}", status_code=204, responses=responses(401, 403, 404))
def delete_segment(session: SessionDep, _: CanWrite, segment_id: IdPath) -> None:
    """Delete a segment; its contacts stay."""
    service.delete_segment(session, segment_id)


@router.get("/{segment_id}/count", response_model=SegmentCount, responses=responses(401, 403, 404, 422))
def count_segment(session: SessionDep, _: CanRead, segment_id: IdPath) -> SegmentCount:
    """How many contacts the segment holds right now."""
    return SegmentCount(count=service.count_segment(session, segment_id))


@router.get("/{segment_id}/preview", response_model=Page[ContactOut], responses=responses(401, 403, 404, 422))
def preview_segment(
    session: SessionDep, _: CanRead, segment_id: IdPath, cursor: Cursor = None, limit: Limit = 20
) -> Page[ContactOut]:
    """The segment's contacts, newest first (keyset-paginated)."""
    return service.preview_segment(session, segment_id, cursor=cursor, limit=limit)
