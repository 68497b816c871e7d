"""Messages of conversations: send (queued), page, search, timeline, and the inbound pipeline's entry points."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.channels import sending
from greenline.conversations import repository, service
from greenline.conversations.schemas import HistoryEvent, MessageCreate, MessageOut, SearchHit, Ticks
from greenline.core.db import utcnow
from greenline.core.errors import Conflict, InvalidInput, NotFound
from greenline.core.pagination import Page
from greenline.core.principal import Principal
from greenline.models import Contact, Conversation, Message
from greenline.models.enums import ConversationStatus, Direction, MessageStatus

PREVIEW_CHARS = 200
SNIPPET_CONTEXT = 60
# Status timestamps in the order WhatsApp reaches them, as timeline events.
_STATUS_EVENTS = (
    ("queued_at", "message.queued"),
    ("sent_at", "message.sent"),
    ("delivered_at", "message.delivered"),
    ("read_at", "message.read"),
    ("failed_at", "message.failed"),
)


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        contact_id=message.contact_id,
        direction=message.direction,
        kind=message.kind,
        body=message.body,
        media_url=message.media_url,
        media_type=message.media_type,
        reply_to_id=message.reply_to_id,
        provider_message_id=message.provider_message_id,
        sent_by=message.sent_by,
        created_at=message.created_at,
        ticks=Ticks(
            status=message.status,
            queued_at=message.queued_at,
            sent_at=message.sent_at,
            delivered_at=message.delivered_at,
            read_at=message.read_at,
            failed_at=message.failed_at,
            received_at=message.received_at,
            error_code=message.error_code,
            error_message=message.error_message,
        ),
    )


def kind_of(media_type: str | None) -> str:
    """The message kind from a MIME type: text, image, video, audio or document."""
    if media_type is None:
        return "text"
    family = media_type.split("/", 1)[0]
    return family if family in {"image", "video", "audio"} else "document"


def _touch(conversation: Conversation, message: Message, at: dt.datetime) -> None:
    """Make `message` the conversation's latest activity unless a newer one is already recorded."""
    if conversation.last_message_at is None or at >= conversation.last_message_at:
        conversation.last_message_at = at
        conversation.last_message_preview = (message.body or f"[{message.kind}]")[:PREVIEW_CHARS]


def send_message(session: Session, principal: Principal, conversation_id: int, data: MessageCreate) -> MessageOut:
    """Store an outbound message as `queued` and hand it to the conversation's number after commit.

    It goes out on the number the conversation is on (sticky), else the tenant's default number.
    Sending to a closed conversation reopens it; an archived one must be unarchived first.
    """
    conversation = service.load(session, principal, conversation_id)
    if data.body is not None and not data.body.strip():
        raise InvalidInput("body", "must not be blank")
    if data.body is None and data.media_url is None:
        raise InvalidInput("body", "is required unless media_url is given")
    if data.media_url is not None and data.media_type is None:
        raise InvalidInput("media_type", "is required with media_url")
    if data.media_type is not None and data.media_url is None:
        raise InvalidInput("media_url", "is required with media_type")
    if conversation.status == ConversationStatus.archived:
        raise Conflict("conversation is archived; unarchive it first")
    if data.reply_to_id is not None:
        found = session.scalar(
            select(Message.id).where(Message.id == data.reply_to_id, Message.conversation_id == conversation.id)
        )
        if found is None:
            raise InvalidInput("reply_to_id", "is not a message of this conversation")
    if conversation.status == ConversationStatus.closed:
        service.change_status(conversation, ConversationStatus.open, principal.user_id)
    now = utcnow()
    message = Message(
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        direction=Direction.outbound,
        kind=kind_of(data.media_type),
        body=data.body,
        media_url=data.media_url,
        media_type=data.media_type,
        reply_to_id=data.reply_to_id,
        status=MessageStatus.queued,
        sent_by=principal.user_id,
        created_at=now,
        queued_at=now,
        sender_number_id=conversation.sender_number_id,
    )
    session.add(message)
    _touch(conversation, message, now)
    session.flush()
    sending.schedule_send(session, [message.id])
    return message_out(message)


def list_messages(
    session: Session, principal: Principal, conversation_id: int, *, before: int | None, after: int | None, limit: int
) -> Page[MessageOut]:
    if before is not None and after is not None:
        raise InvalidInput("after", "cannot be combined with before")
    conversation = service.load(session, principal, conversation_id)
    messages, next_cursor = repository.message_page(session, conversation.id, before=before, after=after, limit=limit)
    return Page(items=[message_out(m) for m in messages], next_cursor=next_cursor)


def snippet(body: str, q: str) -> str:
    """The part of `body` around the first case-insensitive occurrence of `q`, with ellipses where cut."""
    found = re.search(re.escape(q), body, re.IGNORECASE)
    start, end = (found.start(), found.end()) if found else (0, 0)
    left, right = max(0, start - SNIPPET_CONTEXT), min(len(body), end + SNIPPET_CONTEXT)
    return ("…" if left else "") + body[left:right] + ("…" if right < len(body) else "")


def search(session: Session, principal: Principal, q: str, cursor: str | None, limit: int) -> Page[SearchHit]:
    """Conversations whose messages contain `q` (case-insensitive), newest match first."""
    rows, next_cursor = repository.search_rows(session, principal, q, cursor, limit)
    hits = [
        SearchHit(
            conversation=service.conversation_out(conversation, contact),
            message_id=message.id,
            snippet=snippet(message.body or "", q),
            message_at=message.created_at,
        )
        for conversation, contact, message in rows
    ]
    return Page(items=hits, next_cursor=next_cursor)


def _message_events(message: Message) -> list[HistoryEvent]:
    common: dict[str, Any] = {"message_id": message.id, "direction": message.direction}
    if message.direction == Direction.inbound:
        at = message.received_at or message.created_at
        events = [HistoryEvent(at=at, type="message.received", text=message.body, status=message.status, **common)]
    else:
        events = [
            HistoryEvent(at=message.created_at, type="message.created", text=message.body, by=message.sent_by, **common)
        ]
    for column, kind in _STATUS_EVENTS:
        at = getattr(message, column)
        if at is not None:
            failed = kind == "message.failed"
            events.append(
                HistoryEvent(
                    at=at,
                    type=kind,
                    status=kind.removeprefix("message."),
                    error_code=message.error_code if failed else None,
                    error_message=message.error_message if failed else None,
                    **common,
                )
            )
    return events


def _in_window(at: dt.datetime, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def history(
    session: Session, principal: Principal, conversation_id: int, cursor: str | None, limit: int
) -> Page[HistoryEvent]:
    """The conversation's timeline, newest first, paged by messages (`limit` counts messages).

    Each message brings all its status events; notes and status/assignment changes appear in the
    page whose time span holds them, so every event is listed exactly once across pages.
    """
    conversation = service.load(session, principal, conversation_id)
    window = repository.history_window(session, conversation.id, cursor, limit)
    events: list[HistoryEvent] = []
    if _in_window(conversation.started_at, window.since, window.until):
        events.append(HistoryEvent(at=conversation.started_at, type="conversation.created"))
    for stored in service.stored_events(conversation):
        event = HistoryEvent.model_validate(stored)
        if _in_window(event.at, window.since, window.until):
            events.append(event)
    for note in repository.notes_between(session, conversation.id, window.since, window.until):
        events.append(
            HistoryEvent(at=note.created_at, type="note.added", by=note.author_id, note_id=note.id, text=note.body)
        )
    for message in reversed(window.messages):
        events.extend(_message_events(message))
    ordered = [event for _, event in sorted(enumerate(events), key=lambda pair: (pair[1].at, pair[0]), reverse=True)]
    return Page(items=ordered, next_cursor=window.next_cursor)


# --- entry points for the inbound pipeline ------------------------------------


def get_or_open_conversation(session: Session, contact_id: int) -> Conversation:
    """The contact's open or pending conversation, or a new open one (closed and archived ones stay put)."""
    conversation = service.open_conversation_of(session, contact_id)
    if conversation is not None:
        return conversation
    if session.scalar(select(Contact.id).where(Contact.id == contact_id)) is None:
        raise NotFound("contact not found")
    conversation = service.new_conversation(contact_id, status=ConversationStatus.open)
    session.add(conversation)
    session.flush()
    return conversation


def record_inbound_message(
    session: Session,
    contact_id: int,
    body: str | None,
    *,
    media_url: str | None = None,
    media_type: str | None = None,
    provider_message_id: str | None = None,
    reply_to_provider_id: str | None = None,
    received_at: dt.datetime | None = None,
) -> Message:
    """Store a message from a contact in their conversation, counting it unread.

    A provider message id seen before returns the stored message unchanged, so a webhook
    delivered twice is recorded once. A pending conversation becomes open again.
    """
    if provider_message_id is not None:
        seen = session.scalar(
            select(Message).where(
                Message.provider_message_id == provider_message_id, Message.direction == Direction.inbound
            )
        )
        if seen is not None:
            return seen
    conversation = get_or_open_conversation(session, contact_id)
    reply_to_id = None
    if reply_to_provider_id is not None:
        reply_to_id = session.scalar(
            select(Message.id).where(Message.provider_message_id == reply_to_provider_id).limit(1)
        )
    at = received_at or utcnow()
    message = Message(
        conversation_id=conversation.id,
        contact_id=contact_id,
        direction=Direction.inbound,
        kind=kind_of(media_type),
        body=body,
        media_url=media_url,
        media_type=media_type,
        provider_message_id=provider_message_id,
        reply_to_id=reply_to_id,
        status=MessageStatus.received,
        received_at=at,
    )
    session.add(message)
    _touch(conversation, message, at)
    if conversation.last_inbound_at is None or at > conversation.last_inbound_at:
        conversation.last_inbound_at = at
    if conversation.status == ConversationStatus.pending:
        service.change_status(conversation, ConversationStatus.open, None)
    # Incremented in SQL, so two messages arriving at once both count.
    conversation.unread_count = Conversation.unread_count + 1
    session.flush()
    return message
