"""The seed's contact endpoints (bulk import lives in the imports domain) plus tags and consent."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from greenline.auth.dependencies import require
from greenline.contacts import consent, export, service
from greenline.contacts.repository import ContactSort
from greenline.contacts.schemas import (
    ContactCreate,
    ContactOut,
    ContactQuery,
    ContactUpdate,
    PhoneCheck,
    PhoneValidation,
    TagsAdd,
)
from greenline.core.db import utcnow
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.optouts.schemas import ConsentEventOut, OptInRequest, OptOutRequest

router = APIRouter(prefix="/contacts", tags=["contacts"])

CanRead = Annotated[Principal, Depends(require(Permission.contacts_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.contacts_write))]
Filters = Annotated[ContactQuery, Query()]
SearchText = Annotated[str, Query(min_length=1, max_length=100, description="Part of a name, email or phone")]
RulesParam = Annotated[str, Query(min_length=2, max_length=20_000, description="URL-encoded JSON rule tree")]
TagPath = Annotated[str, Path(min_length=1, max_length=200)]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "CSV file"}}


@router.post("/", response_model=ContactOut, status_code=201, responses=responses(401, 403, 409, 422))
def create_contact(session: SessionDep, principal: CanWrite, body: ContactCreate) -> ContactOut:
    """Create a contact; the phone is stored in E.164 and is unique in the tenant."""
    return service.create_contact(session, principal, body)


@router.get("/", response_model=Page[ContactOut], responses=responses(401, 403, 404, 422))
def list_contacts(
    session: SessionDep,
    _: CanRead,
    filters: Filters,
    sort: Annotated[ContactSort, Query(description="`newest` first, or by `id` ascending")] = "newest",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ContactOut]:
    """Contacts matching the filters (keyset-paginated; no total count)."""
    return service.list_contacts(session, filters, cursor=cursor, limit=limit, sort=sort)


@router.get("/search", response_model=Page[ContactOut], responses=responses(401, 403, 422))
def search_contacts(
    session: SessionDep, _: CanRead, q: SearchText, cursor: Cursor = None, limit: Limit = 20
) -> Page[ContactOut]:
    """Find contacts by part of a name, email or phone (digits with or without `+` or spaces)."""
    return service.search_contacts(session, q, cursor=cursor, limit=limit)


@router.get("/filter", response_model=Page[ContactOut], responses=responses(401, 403, 422))
def filter_contacts(
    session: SessionDep, _: CanRead, rules: RulesParam, cursor: Cursor = None, limit: Limit = 50
) -> Page[ContactOut]:
    """Contacts matching a JSON rule tree (the segment rule language), newest first."""
    return service.filter_contacts(session, rules, cursor=cursor, limit=limit)


@router.get("/export", response_class=StreamingResponse, responses={**CSV_RESPONSE, **responses(401, 403, 404, 422)})
def export_contacts(
    session: SessionDep, runtime: RuntimeDep, principal: CanRead, filters: Filters
) -> StreamingResponse:
    """Download the contacts matching the list filters (or `segment_id`) as CSV, streamed."""
    where = service.query_filter(session, filters)
    assert principal.tenant_id is not None
    return StreamingResponse(
        export.iter_csv(runtime, principal.tenant_id, where),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{export.export_filename(utcnow())}"'},
    )


@router.post("/validate-phone", response_model=PhoneValidation, responses=responses(401, 403, 422))
def validate_phone(session: SessionDep, _: CanRead, body: PhoneCheck) -> PhoneValidation:
    """Check and normalise a number; an invalid number answers 200 with `valid: false` and the reason."""
    return service.validate_phone(session, body)


@router.get("/{contact_id}", response_model=ContactOut, responses=responses(401, 403, 404))
def get_contact(session: SessionDep, _: CanRead, contact_id: IdPath) -> ContactOut:
    """One contact."""
    return service.get_contact(session, contact_id)


@router.put("/{contact_id}", response_model=ContactOut, responses=responses(401, 403, 404, 409, 422))
def update_contact(session: SessionDep, principal: CanWrite, contact_id: IdPath, body: ContactUpdate) -> ContactOut:
    """Change the fields sent; re-subscribing an opted-out contact needs POST /{id}/opt-in."""
    return service.update_contact(session, principal, contact_id, body)


@router.delete("/{contact_id}", status_code=204, responses=responses(401, 403, 404))
def delete_contact(session: SessionDep, _: CanWrite, contact_id: IdPath) -> None:
    """Delete a contact; an opt-out of its number stays in force."""
    service.delete_contact(session, contact_id)


@router.post("/{contact_id}/tags", response_model=ContactOut, responses=responses(401, 403, 404, 422))
def add_tags(session: SessionDep, _: CanWrite, contact_id: IdPath, body: TagsAdd) -> ContactOut:
    """Add tags to a contact (at most 50 per contact)."""
    return service.add_tags(session, contact_id, body.tags)


@router.delete("/{contact_id}/tags/{tag}", response_model=ContactOut, responses=responses(401, 403, 404, 422))
def remove_tag(session: SessionDep, _: CanWrite, contact_id: IdPath, tag: TagPath) -> ContactOut:
    """Remove a tag from a contact, whatever its case."""
    return service.remove_tag(session, contact_id, tag)


@router.post("/{contact_id}/opt-in", response_model=ContactOut, responses=responses(401, 403, 404, 422))
def opt_in_contact(session: SessionDep, principal: CanWrite, contact_id: IdPath, body: OptInRequest) -> ContactOut:
    """Re-subscribe a contact on explicit consent; `source` records how it was given."""
    return consent.opt_in_contact(session, principal, contact_id, body)


@router.post("/{contact_id}/opt-out", response_model=ContactOut, responses=responses(401, 403, 404, 422))
def opt_out_contact(
    session: SessionDep, principal: CanWrite, contact_id: IdPath, body: OptOutRequest | None = None
) -> ContactOut:
    """Opt a contact's number out of every marketing send of the tenant."""
    return consent.opt_out_contact(session, principal, contact_id, body or OptOutRequest())


@router.get("/{contact_id}/consent", response_model=Page[ConsentEventOut], responses=responses(401, 403, 404, 422))
def get_consent_history(
    session: SessionDep, _: CanRead, contact_id: IdPath, cursor: Cursor = None, limit: Limit = 50
) -> Page[ConsentEventOut]:
    """The consent history (opt-ins and opt-outs) of the contact's number, newest first."""
    return consent.consent_history(session, contact_id, cursor=cursor, limit=limit)
