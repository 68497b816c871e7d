"""Queries of the conversations domain: visibility, list filters, search and keyset pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, exists, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from greenline.core.errors import InvalidInput
from greenline.core.pagination import decode_cursor, encode_cursor, keyset_page, split_page
from greenline.core.principal import Principal
from greenline.core.types import MAX_ID
from greenline.models import Contact, Conversation, ConversationNote, Message
from greenline.models.enums import ConversationStatus

ConversationRow = tuple[Conversation, Contact]


def db_id(value: Any) -> int:
    """A cursor value that must be a storable id (ValueError otherwise)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise ValueError("not an id")
    return value


def aware(value: Any) -> dt.datetime:
    """A cursor value that must be a timezone-aware ISO timestamp (ValueError otherwise)."""
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed


@dataclass(frozen=True)
class ConversationFilters:
    statuses: tuple[ConversationStatus, ...] | None = None
    assigned_to: int | None = None
    unassigned: bool = False
    unread: bool | None = None
    tag: str | None = None
    q: str | None = None
    active_since: dt.datetime | None = None


def newest_first(
    stmt: Select[Any], columns: list[ColumnElement[Any]], cursor: str | None, limit: int, coerce: list[Any]
) -> Select[Any]:
    """`keyset_page` descending, refusing cursors holding nulls (the sort keys here are never null)."""
    if cursor and any(value is None for value in decode_cursor(cursor, len(columns))):
        raise InvalidInput("cursor", "is not a cursor returned by this endpoint")
    return keyset_page(stmt, columns, cursor, limit, descending=True, coerce=coerce)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Limit a conversation query to what the principal may see (sales users: their own only)."""
    if principal.assigned_only:
        return stmt.where(Conversation.assigned_to == principal.user_id)
    return stmt


def has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    """Contact.tags (a JSON array) contains `tag`: JSONB containment on PostgreSQL, json_each on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Contact.tags, JSONB).contains([tag])
    items = func.json_each(Contact.tags).table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value == tag))


def _message_matches(pattern: str) -> ColumnElement[bool]:
    return exists(
        select(Message.id).where(
            Message.tenant_id == Conversation.tenant_id,
            Message.conversation_id == Conversation.id,
            Message.body.ilike(pattern, escape="\\"),
        )
    )


def _with_contact() -> Select[Any]:
    # Typed loosely so the pagination helpers (which take Select[Any]) accept it.
    return cast("Select[Any]", select(Conversation, Contact).join(Contact, Contact.id == Conversation.contact_id))


def get_row(session: Session, principal: Principal, conversation_id: int) -> ConversationRow | None:
    row = session.execute(visible(_with_contact().where(Conversation.id == conversation_id), principal)).first()
    return None if row is None else (row[0], row[1])


def list_rows(
    session: Session, principal: Principal, filters: ConversationFilters, cursor: str | None, limit: int
) -> tuple[list[ConversationRow], str | None]:
    """One page of conversations, most recent activity first."""
    stmt = visible(_with_contact(), principal)
    if filters.statuses is not None:
        stmt = stmt.where(Conversation.status.in_(filters.statuses))
    if filters.assigned_to is not None:
        stmt = stmt.where(Conversation.assigned_to == filters.assigned_to)
    if filters.unassigned:
        stmt = stmt.where(Conversation.assigned_to.is_(None))
    if filters.unread is not None:
        stmt = stmt.where(Conversation.unread_count > 0 if filters.unread else Conversation.unread_count == 0)
    if filters.tag is not None:
        stmt = stmt.where(has_tag(session, filters.tag))
    if filters.q:
        pattern = like_pattern(filters.q)
        stmt = stmt.where(
            or_(
                Contact.name.ilike(pattern, escape="\\"),
                Contact.phone.ilike(pattern, escape="\\"),
                _message_matches(pattern),
            )
        )
    if filters.active_since is not None:
        stmt = stmt.where(Conversation.last_message_at >= filters.active_since)
    columns: list[ColumnElement[Any]] = [Conversation.last_message_at.expression, Conversation.id.expression]
    stmt = newest_first(stmt, columns, cursor, limit, [aware, db_id])
    rows = [(row[0], row[1]) for row in session.execute(stmt).all()]
    return split_page(rows, limit, lambda row: (row[0].last_message_at, row[0].id))


def search_rows(
    session: Session, principal: Principal, q: str, cursor: str | None, limit: int
) -> tuple[list[tuple[Conversation, Contact, Message]], str | None]:
    """Conversations with a message containing `q`, each with its newest match, newest match first."""
    newest = (
        select(Message.conversation_id.label("conversation_id"), func.max(Message.id).label("message_id"))
        .where(Message.conversation_id.is_not(None), Message.body.ilike(like_pattern(q), escape="\\"))
        .group_by(Message.conversation_id)
        .subquery()
    )
    stmt = visible(
        _with_contact()
        .add_columns(Message)
        .join(newest, newest.c.conversation_id == Conversation.id)
        .join(Message, Message.id == newest.c.message_id),
        principal,
    )
    stmt = newest_first(stmt, [newest.c.message_id], cursor, limit, [db_id])
    rows = [(row[0], row[1], row[2]) for row in session.execute(stmt).all()]
    return split_page(rows, limit, lambda row: (row[2].id,))


def message_page(
    session: Session, conversation_id: int, *, before: int | None, after: int | None, limit: int
) -> tuple[list[Message], str | None]:
    """Messages newest first (older than `before`), or oldest first when polling newer than `after`.

    Messages sort by id alone, so the cursor is simply the id of the last message returned.
    """
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        stmt = stmt.where(Message.id > after).order_by(Message.id)
    else:
        if before is not None:
            stmt = stmt.where(Message.id < before)
        stmt = stmt.order_by(Message.id.desc())
    rows = list(session.scalars(stmt.limit(limit + 1)))
    items = rows[:limit]
    return items, str(items[-1].id) if len(rows) > limit else None


def notes_page(
    session: Session, conversation_id: int, cursor: str | None, limit: int
) -> tuple[list[ConversationNote], str | None]:
    stmt = select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
    stmt = newest_first(stmt, [ConversationNote.id.expression], cursor, limit, [db_id])
    return split_page(list(session.scalars(stmt)), limit, lambda note: (note.id,))


@dataclass(frozen=True)
class HistoryWindow:
    """One page of a timeline: its messages, and the time span [since, until) its other events come from."""

    messages: list[Message]
    since: dt.datetime | None
    until: dt.datetime | None
    next_cursor: str | None


def history_window(session: Session, conversation_id: int, cursor: str | None, limit: int) -> HistoryWindow:
    """Page a timeline by messages; notes and changes fall in exactly one page's time span."""
    until: dt.datetime | None = None
    stmt = select(Message).where(Message.conversation_id == conversation_id)
    if cursor:
        message_id, until = _decode_history_cursor(cursor)
        stmt = stmt.where(Message.id < message_id)
    rows = list(session.scalars(stmt.order_by(Message.id.desc()).limit(limit + 1)))
    messages = rows[:limit]
    if len(rows) <= limit or not messages:
        return HistoryWindow(messages, None, until, None)
    since = messages[-1].created_at
    # Keep spans from overlapping even when ids and timestamps disagree.
    since = since if until is None else min(since, until)
    return HistoryWindow(messages, since, until, encode_cursor([messages[-1].id, since.isoformat()]))


def _decode_history_cursor(cursor: str) -> tuple[int, dt.datetime]:
    message_id, until = decode_cursor(cursor, 2)
    try:
        return db_id(message_id), aware(until)
    except (TypeError, ValueError):
        raise InvalidInput("cursor", "is not a cursor returned by this endpoint") from None


def notes_between(
    session: Session, conversation_id: int, since: dt.datetime | None, until: dt.datetime | None
) -> Sequence[ConversationNote]:
    stmt = select(ConversationNote).where(ConversationNote.conversation_id == conversation_id)
    if since is not None:
        stmt = stmt.where(ConversationNote.created_at >= since)
    if until is not None:
        stmt = stmt.where(ConversationNote.created_at < until)
    return session.scalars(stmt.order_by(ConversationNote.id)).all()
