"""Conversations: open, list, assign, change status, archive, read, auto-reply, notes and delete.

Sales users (`principal.assigned_only`) reach only conversations assigned to them; any other
conversation answers 404 exactly like another tenant's. Status and assignment changes are kept
in a short change log under the reserved metadata key `_events` and appear in the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from greenline.conversations import repository
from greenline.conversations.autoreply import parse_settings
from greenline.conversations.repository import ConversationFilters
from greenline.conversations.schemas import (
    RESERVED_PREFIX,
    AutoReplySettings,
    ContactSummary,
    ConversationCreate,
    ConversationOut,
    ConversationUpdate,
    NoteCreate,
    NoteOut,
)
from greenline.core.db import utcnow
from greenline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from greenline.core.pagination import Page
from greenline.core.principal import Principal
from greenline.models import Contact, Conversation, ConversationNote, TenantUser
from greenline.models.enums import ConversationStatus

EVENTS_KEY = "_events"
MAX_EVENTS = 200
OPEN_STATUSES = (ConversationStatus.open, ConversationStatus.pending)


def conversation_out(conversation: Conversation, contact: Contact) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        contact_id=conversation.contact_id,
        contact=ContactSummary.model_validate(contact),
        status=conversation.status,
        assigned_to=conversation.assigned_to,
        subject=conversation.subject,
        started_at=conversation.started_at,
        last_message_at=conversation.last_message_at,
        last_message_preview=conversation.last_message_preview,
        last_inbound_at=conversation.last_inbound_at,
        unread_count=conversation.unread_count,
        metadata={k: v for k, v in conversation.metadata_.items() if not k.startswith(RESERVED_PREFIX)},
        auto_reply=parse_settings(conversation.auto_reply),
        archived_at=conversation.archived_at,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
    )


def get_row(session: Session, principal: Principal, conversation_id: int) -> tuple[Conversation, Contact]:
    """A conversation the principal may see, with its contact; anything else is not found."""
    row = repository.get_row(session, principal, conversation_id)
    if row is None:
        raise NotFound("conversation not found")
    return row


def load(session: Session, principal: Principal, conversation_id: int) -> Conversation:
    return get_row(session, principal, conversation_id)[0]


def record_event(conversation: Conversation, kind: str, by: int | None, **fields: Any) -> None:
    """Append to the conversation's change log (the newest MAX_EVENTS are kept)."""
    events = list(conversation.metadata_.get(EVENTS_KEY, []))
    events.append({"type": kind, "at": utcnow().isoformat(), "by": by, **fields})
    # A new dict, so the JSON column is seen as changed.
    conversation.metadata_ = {**conversation.metadata_, EVENTS_KEY: events[-MAX_EVENTS:]}


def stored_events(conversation: Conversation) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = conversation.metadata_.get(EVENTS_KEY, [])
    return events


def change_status(conversation: Conversation, status: ConversationStatus, by: int | None) -> None:
    """Move between open, pending and closed; an archived conversation must be unarchived first."""
    if conversation.status == ConversationStatus.archived:
        raise Conflict("conversation is archived; unarchive it first")
    if conversation.status != status:
        record_event(
            conversation, "conversation.status_changed", by, status=status, previous_status=conversation.status
        )
        conversation.status = status


def _check_assignee(session: Session, principal: Principal, assigned_to: int | None) -> None:
    if principal.assigned_only and assigned_to not in (None, principal.user_id):
        raise Forbidden("sales users can assign conversations only to themselves")
    member = select(TenantUser.id).where(TenantUser.user_id == assigned_to)
    if assigned_to is not None and session.scalar(member) is None:
        raise InvalidInput("assigned_to", "is not a member of this tenant")


def _assign(session: Session, principal: Principal, conversation: Conversation, assigned_to: int | None) -> None:
    _check_assignee(session, principal, assigned_to)
    if conversation.assigned_to != assigned_to:
        record_event(
            conversation,
            "conversation.assigned",
            principal.user_id,
            assigned_to=assigned_to,
            previous_assigned_to=conversation.assigned_to,
        )
        conversation.assigned_to = assigned_to


def open_conversation_of(session: Session, contact_id: int) -> Conversation | None:
    """The contact's newest open or pending conversation, if any."""
    return session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact_id, Conversation.status.in_(OPEN_STATUSES))
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def new_conversation(contact_id: int, **fields: Any) -> Conversation:
    """A conversation starting now; `last_message_at` starts at creation so it sorts among recent activity."""
    now = utcnow()
    return Conversation(contact_id=contact_id, started_at=now, last_message_at=now, **fields)


def create_conversation(session: Session, principal: Principal, data: ConversationCreate) -> ConversationOut:
    """Open a conversation with a contact; a second open one for the same contact is a 409 naming the first."""
    contact = session.scalar(select(Contact).where(Contact.id == data.contact_id))
    if contact is None:
        raise InvalidInput("contact_id", "no such contact")
    # A sales user's conversations are always their own.
    assigned_to = (data.assigned_to or principal.user_id) if principal.assigned_only else data.assigned_to
    _check_assignee(session, principal, assigned_to)
    if data.status in OPEN_STATUSES:
        existing = open_conversation_of(session, contact.id)
        if existing is not None:
            hidden = principal.assigned_only and existing.assigned_to != principal.user_id
            raise Conflict(
                "contact already has an open conversation",
                details=[
                    {
                        "field": "contact_id",
                        "problem": "has an open conversation",
                        "conversation_id": None if hidden else existing.id,
                    }
                ],
            )
    conversation = new_conversation(
        contact.id, status=data.status, assigned_to=assigned_to, subject=data.subject, metadata_=dict(data.metadata)
    )
    session.add(conversation)
    session.flush()
    return conversation_out(conversation, contact)


def list_conversations(
    session: Session, principal: Principal, filters: ConversationFilters, cursor: str | None, limit: int
) -> Page[ConversationOut]:
    rows, next_cursor = repository.list_rows(session, principal, filters, cursor, limit)
    return Page(items=[conversation_out(*row) for row in rows], next_cursor=next_cursor)


def active_since(hours: int) -> dt.datetime:
    return utcnow() - dt.timedelta(hours=hours)


def get_conversation(session: Session, principal: Principal, conversation_id: int) -> ConversationOut:
    return conversation_out(*get_row(session, principal, conversation_id))


def update_conversation(
    session: Session, principal: Principal, conversation_id: int, data: ConversationUpdate
) -> ConversationOut:
    """Assign, rename, change status or replace metadata; fields left out are unchanged."""
    conversation, contact = get_row(session, principal, conversation_id)
    if "assigned_to" in data.model_fields_set:
        _assign(session, principal, conversation, data.assigned_to)
    if "subject" in data.model_fields_set:
        conversation.subject = data.subject
    if data.status is not None:
        change_status(conversation, data.status, principal.user_id)
    if data.metadata is not None:
        reserved = {k: v for k, v in conversation.metadata_.items() if k.startswith(RESERVED_PREFIX)}
        conversation.metadata_ = {**data.metadata, **reserved}
    session.flush()
    return conversation_out(conversation, contact)


def set_status(
    session: Session, principal: Principal, conversation_id: int, status: ConversationStatus
) -> ConversationOut:
    conversation, contact = get_row(session, principal, conversation_id)
    change_status(conversation, status, principal.user_id)
    session.flush()
    return conversation_out(conversation, contact)


def archive(session: Session, principal: Principal, conversation_id: int) -> ConversationOut:
    """Archive, remembering the status to restore; archiving twice changes nothing."""
    conversation, contact = get_row(session, principal, conversation_id)
    if conversation.status != ConversationStatus.archived:
        record_event(conversation, "conversation.archived", principal.user_id, previous_status=conversation.status)
        conversation.status_before_archive = conversation.status
        conversation.status = ConversationStatus.archived
        conversation.archived_at = utcnow()
        session.flush()
    return conversation_out(conversation, contact)


def unarchive(session: Session, principal: Principal, conversation_id: int) -> ConversationOut:
    """Restore the status the conversation had before it was archived (open if unknown)."""
    conversation, contact = get_row(session, principal, conversation_id)
    if conversation.status == ConversationStatus.archived:
        previous = conversation.status_before_archive
        restored = ConversationStatus(previous) if previous in set(OPEN_STATUSES) | {"closed"} else None
        conversation.status = restored or ConversationStatus.open
        conversation.status_before_archive = None
        conversation.archived_at = None
        record_event(conversation, "conversation.unarchived", principal.user_id, status=conversation.status)
        session.flush()
    return conversation_out(conversation, contact)


def mark_read(session: Session, principal: Principal, conversation_id: int) -> ConversationOut:
    conversation, contact = get_row(session, principal, conversation_id)
    if conversation.unread_count:
        conversation.unread_count = 0
        session.flush()
    return conversation_out(conversation, contact)


def set_auto_reply(
    session: Session, principal: Principal, conversation_id: int, settings: AutoReplySettings
) -> AutoReplySettings:
    conversation = load(session, principal, conversation_id)
    conversation.auto_reply = settings.model_dump(mode="json")
    session.flush()
    return settings


def delete_conversation(session: Session, principal: Principal, conversation_id: int) -> None:
    """Delete a conversation with its messages and notes."""
    session.delete(load(session, principal, conversation_id))
    session.flush()


def bulk_delete(session: Session, principal: Principal, ids: list[int]) -> int:
    """Delete many conversations in one statement; ids not found (or not visible) are not counted."""
    stmt = delete(Conversation).where(Conversation.id.in_(set(ids)))
    if principal.assigned_only:
        stmt = stmt.where(Conversation.assigned_to == principal.user_id)
    result = session.execute(stmt, execution_options={"synchronize_session": False})
    deleted: int = result.rowcount  # type: ignore[attr-defined]
    return deleted


def add_note(session: Session, principal: Principal, conversation_id: int, data: NoteCreate) -> ConversationNote:
    conversation = load(session, principal, conversation_id)
    note = ConversationNote(conversation_id=conversation.id, author_id=principal.user_id, body=data.body)
    session.add(note)
    session.flush()
    return note


def list_notes(
    session: Session, principal: Principal, conversation_id: int, cursor: str | None, limit: int
) -> Page[NoteOut]:
    conversation = load(session, principal, conversation_id)
    notes, next_cursor = repository.notes_page(session, conversation.id, cursor, limit)
    return Page(items=[NoteOut.model_validate(note) for note in notes], next_cursor=next_cursor)
