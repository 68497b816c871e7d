"""Segments: saved rule trees, resolved to a WHERE clause each time they are used.

`contact_filter` and `resolve_segment_filter` are the entry points for other domains:
campaigns target a segment with one INSERT ... SELECT over the clause they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from greenline.contacts import repository as contacts
from greenline.contacts.schemas import ContactOut
from greenline.core.db import session_tenant
from greenline.core.errors import Conflict, InvalidInput, NotFound
from greenline.core.pagination import Page, keyset_page, split_page
from greenline.core.principal import Principal
from greenline.models import Contact, Segment
from greenline.segments.compiler import compile_rules
from greenline.segments.rules import Group, Leaf, Negation, Node, RuleError, dump_rules, parse_rules
from greenline.segments.schemas import SegmentCreate, SegmentOut, SegmentUpdate


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL (rules compile per dialect)."""
    return session.get_bind().dialect.name == "postgresql"


def validate_rules(raw: Any, path: str = "rules") -> Node:
    """Parse a rule tree; a bad node is a 422 naming its exact path."""
    try:
        return parse_rules(raw, path)
    except RuleError as exc:
        raise InvalidInput(exc.path, exc.problem) from None


def contact_filter(session: Session, rules: Mapping[str, Any] | Node) -> ColumnElement[bool]:
    """WHERE clause selecting the session tenant's contacts that match `rules` (raw JSON or parsed).

    The clause carries the tenant itself, so it stays inside the tenant even in a Core
    INSERT ... SELECT that the ORM tenant filter does not see.
    """
    node = rules if isinstance(rules, Leaf | Group | Negation) else validate_rules(rules)
    tenant_id = session_tenant(session)
    # An unbound session matches nothing, like the ORM tenant filter (fail closed).
    wall = Contact.tenant_id == (tenant_id if tenant_id is not None else -1)
    return and_(wall, compile_rules(node, postgres=is_postgres(session)))


def get_segment(session: Session, segment_id: int) -> Segment:
    segment = session.scalar(select(Segment).where(Segment.id == segment_id))
    if segment is None:
        raise NotFound("segment not found")
    return segment


def resolve_segment_filter(session: Session, segment_id: int) -> ColumnElement[bool]:
    """WHERE clause selecting the contacts of a saved segment (404 when it is not the tenant's)."""
    return contact_filter(session, get_segment(session, segment_id).rules)


def count_contacts(session: Session, where: ColumnElement[bool]) -> int:
    """How many contacts match `where` (a tag rule uses the GIN index on PostgreSQL)."""
    return session.scalar(select(func.count()).select_from(Contact).where(where)) or 0


def _name_taken(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(Segment.id).where(Segment.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Segment.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a segment named {name!r} already exists", details=[{"field": "name", "problem": "taken"}])


def create_segment(session: Session, principal: Principal, data: SegmentCreate) -> Segment:
    """Save a validated rule tree under a name unique in the tenant."""
    node = validate_rules(data.rules)
    _name_taken(session, data.name)
    segment = Segment(
        name=data.name, description=data.description, rules=dump_rules(node), created_by=principal.user_id
    )
    session.add(segment)
    session.flush()
    return segment


def list_segments(session: Session, *, cursor: str | None, limit: int) -> Page[SegmentOut]:
    """The tenant's segments, newest first."""
    stmt = keyset_page(select(Segment), [Segment.id.expression], cursor, limit, descending=True, coerce=[int])
    items, next_cursor = split_page(session.scalars(stmt).all(), limit, lambda s: [s.id])
    return Page(items=[SegmentOut.model_validate(s) for s in items], next_cursor=next_cursor)


def update_segment(session: Session, segment_id: int, data: SegmentUpdate) -> Segment:
    """Rename, describe or change the rules of a segment (only the fields sent)."""
    segment = get_segment(session, segment_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if data.name is None:
            raise InvalidInput("name", "cannot be null")
        if data.name != segment.name:
            _name_taken(session, data.name, exclude_id=segment.id)
        segment.name = data.name
    if "rules" in changes:
        if data.rules is None:
            raise InvalidInput("rules", "cannot be null")
        segment.rules = dump_rules(validate_rules(data.rules))
    if "description" in changes:
        segment.description = data.description
    session.flush()
    return segment


def delete_segment(session: Session, segment_id: int) -> None:
    """Delete a segment definition (its contacts are untouched)."""
    session.delete(get_segment(session, segment_id))
    session.flush()


def count_segment(session: Session, segment_id: int) -> int:
    """How many contacts the segment holds right now."""
    return count_contacts(session, resolve_segment_filter(session, segment_id))


def count_rules(session: Session, rules: Mapping[str, Any]) -> int:
    """How many contacts an unsaved rule tree would hold (the segment builder's live count)."""
    return count_contacts(session, contact_filter(session, rules))


def preview_segment(session: Session, segment_id: int, *, cursor: str | None, limit: int) -> Page[ContactOut]:
    """The segment's contacts, newest first, a page at a time."""
    return contacts.page_contacts(session, resolve_segment_filter(session, segment_id), cursor=cursor, limit=limit)
