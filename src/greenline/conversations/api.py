"""Conversations with contacts: the shared inbox, messages, notes, timeline and auto-reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from greenline.auth.dependencies import require
from greenline.conversations import messages, service
from greenline.conversations.repository import ConversationFilters
from greenline.conversations.schemas import (
    AutoReplySettings,
    BulkDelete,
    BulkDeleted,
    ConversationCreate,
    ConversationOut,
    ConversationUpdate,
    HistoryEvent,
    MessageCreate,
    MessageOut,
    NoteCreate,
    NoteOut,
    SearchHit,
    StatusUpdate,
)
from greenline.core.deps import SessionDep
from greenline.core.errors import InvalidInput, responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import MAX_ID, IdPath
from greenline.models.enums import ConversationStatus

router = APIRouter(prefix="/conversations", tags=["conversations"])

CanRead = Annotated[Principal, Depends(require(Permission.conversations_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.conversations_write))]
SearchText = Annotated[str, Query(min_length=1, max_length=200, description="Text to find, case-insensitive")]
AssignedTo = Annotated[
    str | None, Query(pattern=r"^(me|none|[0-9]{1,19})$", description="A user id, `me`, or `none` (unassigned)")
]


def _assignee(principal: Principal, assigned_to: str | None) -> tuple[int | None, bool]:
    """The `assigned_to` filter as (user id, unassigned only)."""
    if assigned_to is None:
        return None, False
    if assigned_to == "none":
        return None, True
    if assigned_to == "me":
        if principal.user_id is None:
            raise InvalidInput("assigned_to", "`me` needs a user login, not an API key")
        return principal.user_id, False
    if int(assigned_to) > MAX_ID:
        raise InvalidInput("assigned_to", "is not a user id")
    return int(assigned_to), False


@router.post("/", response_model=ConversationOut, status_code=201, responses=responses(401, 403, 409, 422))
def create_conversation(session: SessionDep, principal: CanWrite, body: ConversationCreate) -> ConversationOut:
    """Open a conversation with a contact; if one is already open or pending, answer 409 with its id."""
    return service.create_conversation(session, principal, body)


@router.get("/", response_model=Page[ConversationOut], responses=responses(401, 403, 422))
def list_conversations(
    session: SessionDep,
    principal: CanRead,
    cursor: Cursor = None,
    limit: Limit = 50,
    status: Annotated[ConversationStatus | None, Query(description="Default: every status but archived")] = None,
    assigned_to: AssignedTo = None,
    unread: Annotated[bool | None, Query(description="Only conversations with (true) or without unread")] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=64, description="The contact has this tag")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="In messages, name or phone")] = None,
) -> Page[ConversationOut]:
    """The inbox, most recent activity first (keyset-paginated)."""
    statuses = (status,) if status else tuple(s for s in ConversationStatus if s != ConversationStatus.archived)
    assignee, unassigned = _assignee(principal, assigned_to)
    filters = ConversationFilters(
        statuses=statuses, assigned_to=assignee, unassigned=unassigned, unread=unread, tag=tag, q=q
    )
    return service.list_conversations(session, principal, filters, cursor, limit)


@router.get("/search", response_model=Page[SearchHit], responses=responses(401, 403, 422))
def search_conversations(
    session: SessionDep, principal: CanRead, q: SearchText, cursor: Cursor = None, limit: Limit = 50
) -> Page[SearchHit]:
    """Conversations whose messages contain `q`, each with a snippet of its newest matching message."""
    return messages.search(session, principal, q, cursor, limit)


@router.get("/active", response_model=Page[ConversationOut], responses=responses(401, 403, 422))
def active_conversations(
    session: SessionDep,
    principal: CanRead,
    hours: Annotated[int, Query(ge=1, le=720, description="Activity window in hours")] = 24,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ConversationOut]:
    """Open or pending conversations with activity in the last `hours` hours, most recent first."""
    filters = ConversationFilters(
        statuses=(ConversationStatus.open, ConversationStatus.pending), active_since=service.active_since(hours)
    )
    return service.list_conversations(session, principal, filters, cursor, limit)


@router.post("/bulk-delete", response_model=BulkDeleted, responses=responses(401, 403, 422))
def bulk_delete_conversations(session: SessionDep, principal: CanWrite, body: BulkDelete) -> BulkDeleted:
    """Delete up to 500 conversations at once; ids that are not found are not counted."""
    return BulkDeleted(deleted=service.bulk_delete(session, principal, body.ids))


@router.get("/{conversation_id}", response_model=ConversationOut, responses=responses(401, 403, 404))
def get_conversation(session: SessionDep, principal: CanRead, conversation_id: IdPath) -> ConversationOut:
    """One conversation with a summary of its contact. Reading does not mark it read (see POST /read)."""
    return service.get_conversation(session, principal, conversation_id)


@router.put("/{conversation_id}", response_model=ConversationOut, responses=responses(401, 403, 404, 409, 422))
def update_conversation(
    session: SessionDep, principal: CanWrite, conversation_id: IdPath, body: ConversationUpdate
) -> ConversationOut:
    """Assign, set the subject, change status (not to archived) or replace metadata."""
    return service.update_conversation(session, principal, conversation_id, body)


@router.delete("/{conversation_id}", status_code=204, responses=responses(401, 403, 404))
def delete_conversation(session: SessionDep, principal: CanWrite, conversation_id: IdPath) -> None:
    """Delete a conversation with its messages and notes."""
    service.delete_conversation(session, principal, conversation_id)


@router.put("/{conversation_id}/status", response_model=ConversationOut, responses=responses(401, 403, 404, 409, 422))
def update_status(
    session: SessionDep, principal: CanWrite, conversation_id: IdPath, body: StatusUpdate
) -> ConversationOut:
    """Move between open, pending and closed; an archived conversation must be unarchived first."""
    return service.set_status(session, principal, conversation_id, body.status)


@router.post("/{conversation_id}/archive", response_model=ConversationOut, responses=responses(401, 403, 404))
def archive_conversation(session: SessionDep, principal: CanWrite, conversation_id: IdPath) -> ConversationOut:
    """Archive a conversation (idempotent); it leaves the default inbox list."""
    return service.archive(session, principal, conversation_id)


@router.post("/{conversation_id}/unarchive", response_model=ConversationOut, responses=responses(401, 403, 404))
def unarchive_conversation(session: SessionDep, principal: CanWrite, conversation_id: IdPath) -> ConversationOut:
    """Restore an archived conversation to the status it had before (idempotent)."""
    return service.unarchive(session, principal, conversation_id)


@router.post("/{conversation_id}/read", response_model=ConversationOut, responses=responses(401, 403, 404))
def mark_conversation_read(session: SessionDep, principal: CanWrite, conversation_id: IdPath) -> ConversationOut:
    """Mark every message of the conversation read by the team: its unread count becomes 0."""
    return service.mark_read(session, principal, conversation_id)


@router.post("/{conversation_id}/auto-reply", response_model=AutoReplySettings, responses=responses(401, 403, 404, 422))
def set_auto_reply(
    session: SessionDep, principal: CanWrite, conversation_id: IdPath, body: AutoReplySettings
) -> AutoReplySettings:
    """Set the conversation's auto-reply: message, and optionally only outside business hours."""
    return service.set_auto_reply(session, principal, conversation_id, body)


@router.post(
    "/{conversation_id}/messages",
    response_model=MessageOut,
    status_code=201,
    responses=responses(401, 403, 404, 409, 422),
)
def send_message(session: SessionDep, principal: CanWrite, conversation_id: IdPath, body: MessageCreate) -> MessageOut:
    """Add an outbound message, stored as `queued` for the channel layer to send; a closed conversation reopens."""
    return messages.send_message(session, principal, conversation_id, body)


@router.get("/{conversation_id}/messages", response_model=Page[MessageOut], responses=responses(401, 403, 404, 422))
def list_messages(
    session: SessionDep,
    principal: CanRead,
    conversation_id: IdPath,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Older than this message id")] = None,
    after: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Newer than this message id (polling)")] = None,
    limit: Limit = 50,
) -> Page[MessageOut]:
    """Messages newest first, paged with `before`; or, with `after`, the newer ones oldest first.

    `next_cursor` is a message id: pass it as `before` (or as `after` when polling) for the next page.
    """
    return messages.list_messages(session, principal, conversation_id, before=before, after=after, limit=limit)


@router.get("/{conversation_id}/history", response_model=Page[HistoryEvent], responses=responses(401, 403, 404, 422))
def conversation_history(
    session: SessionDep,
    principal: CanRead,
    conversation_id: IdPath,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Messages per page")] = 50,
) -> Page[HistoryEvent]:
    """The timeline, newest first: messages with each status they reached, notes, and status/assignment changes."""
    return messages.history(session, principal, conversation_id, cursor, limit)


@router.post(
    "/{conversation_id}/notes", response_model=NoteOut, status_code=201, responses=responses(401, 403, 404, 422)
)
def add_note(session: SessionDep, principal: CanWrite, conversation_id: IdPath, body: NoteCreate) -> NoteOut:
    """Add an internal note (never sent to the contact)."""
    return NoteOut.model_validate(service.add_note(session, principal, conversation_id, body))


@router.get("/{conversation_id}/notes", response_model=Page[NoteOut], responses=responses(401, 403, 404, 422))
def list_notes(
    session: SessionDep, principal: CanRead, conversation_id: IdPath, cursor: Cursor = None, limit: Limit = 50
) -> Page[NoteOut]:
    """Internal notes of the conversation, newest first."""
    return service.list_notes(session, principal, conversation_id, cursor, limit)
