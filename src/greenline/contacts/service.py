"""Contacts: people the tenant messages, unique per E.164 number, with tags, custom data and consent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from greenline.contacts import repository as repo
from greenline.contacts.phones import parse_for_tenant, tenant_country
from greenline.contacts.schemas import (
    MAX_CUSTOM_KEYS,
    MAX_TAGS,
    ContactCreate,
    ContactOut,
    ContactQuery,
    ContactUpdate,
    PhoneCheck,
    PhoneValidation,
    merge_tags,
    normalize_tag,
)
from greenline.core import events
from greenline.core.db import utcnow
from greenline.core.errors import Conflict, InvalidInput, NotFound
from greenline.core.pagination import Page
from greenline.core.phones import PhoneError, parse_phone
from greenline.core.principal import Principal
from greenline.models import Contact
from greenline.models.enums import ContactStatus
from greenline.optouts import service as optouts
from greenline.segments import service as segments
from greenline.segments.rules import Group, Leaf, Node, RuleError, parse_rules_json

OPT_IN_HINT = "this contact opted out; re-subscribe it with POST /api/v1/contacts/{id}/opt-in and the consent source"


def load_contact(session: Session, contact_id: int, *, for_update: bool = False) -> Contact:
    contact = repo.find_contact(session, contact_id, for_update=for_update)
    if contact is None:
        raise NotFound("contact not found")
    return contact


def _out(session: Session, contact: Contact) -> ContactOut:
    return repo.contact_out(contact, optouts.is_opted_out_e164(session, contact.phone))


def _ensure_unique_phone(session: Session, phone: str, exclude_id: int | None = None) -> None:
    existing = repo.contact_id_by_phone(session, phone)
    if existing is not None and existing != exclude_id:
        raise Conflict(
            f"a contact with phone {phone} already exists",
            details=[{"field": "phone", "problem": "taken", "contact_id": existing}],
        )


def create_contact(session: Session, principal: Principal, data: ContactCreate) -> ContactOut:
    """Create a contact; derives country, time zone and language from the number when not given."""
    info = parse_for_tenant(session, data.phone, country=data.country)
    _ensure_unique_phone(session, info.e164)
    opted_out = optouts.is_opted_out_e164(session, info.e164)
    # A consent claim cannot re-subscribe an opted-out number; that takes POST /opt-in.
    consent = data.opt_in_source if not opted_out and data.status != ContactStatus.unsubscribed else None
    contact = Contact(
        phone=info.e164,
        name=data.name or None,
        email=data.email,
        tags=data.tags,
        custom_data=data.custom_data,
        priority=data.priority,
        source=data.source,
        # An opted-out number stays unsubscribed whatever the request says.
        status=ContactStatus.unsubscribed if opted_out else data.status,
        country=data.country or info.country,
        timezone=data.timezone or info.timezone,
        language=data.language or info.language,
        opt_in_source=consent,
        opt_in_at=(data.opt_in_at or utcnow()) if consent else None,
    )
    session.add(contact)
    session.flush()
    if data.status == ContactStatus.unsubscribed and not opted_out:
        optouts.opt_out(
            session, info.e164, reason=None, source=optouts.consent_source(principal), actor_user_id=principal.user_id
        )
        opted_out = True
    elif consent:
        optouts.record_opt_in(session, info.e164, source=consent, actor_user_id=principal.user_id)
        session.flush()
    events.emit(session, "contact.created", {"contact_id": contact.id, "tags": list(contact.tags or [])})
    return repo.contact_out(contact, opted_out)


def get_contact(session: Session, contact_id: int) -> ContactOut:
    return _out(session, load_contact(session, contact_id))


def _change_phone(session: Session, contact: Contact, raw: str, changes: dict[str, Any]) -> None:
    info = parse_for_tenant(session, raw, country=changes.get("country") or contact.country)
    if info.e164 == contact.phone:
        return
    _ensure_unique_phone(session, info.e164, exclude_id=contact.id)
    contact.phone = info.e164
    # The new number says where the person is, unless the request says otherwise.
    contact.country = changes.get("country") or info.country
    contact.timezone = changes.get("timezone") or info.timezone
    contact.language = changes.get("language") or info.language
    if optouts.is_opted_out_e164(session, info.e164):
        contact.status = ContactStatus.unsubscribed


def _unsubscribed(session: Session, contact: Contact) -> bool:
    return contact.status == ContactStatus.unsubscribed or optouts.is_opted_out_e164(session, contact.phone)


def _refuse_resubscribe(contact: Contact, field: str) -> Conflict:
    hint = OPT_IN_HINT.replace("{id}", str(contact.id))
    return Conflict(hint, code="opted_out", details=[{"field": field, "problem": "opted_out"}])


def _change_status(session: Session, principal: Principal, contact: Contact, status: ContactStatus) -> None:
    if status == contact.status:
        return
    if status == ContactStatus.unsubscribed:
        contact.status = status
        session.flush()
        optouts.opt_out(
            session,
            contact.phone,
            reason=None,
            source=optouts.consent_source(principal),
            actor_user_id=principal.user_id,
        )
        return
    if _unsubscribed(session, contact):
        raise _refuse_resubscribe(contact, "status")
    contact.status = status


def update_contact(session: Session, principal: Principal, contact_id: int, data: ContactUpdate) -> ContactOut:
    """Change only the fields sent; a new phone is re-validated and must stay unique."""
    contact = load_contact(session, contact_id, for_update=True)
    changes = data.model_dump(exclude_unset=True)
    for field in ("phone", "tags", "custom_data", "priority", "status"):
        if field in changes and changes[field] is None:
            raise InvalidInput(field, "cannot be null")
    if data.phone is not None:
        _change_phone(session, contact, data.phone, changes)
    consent_changed = any(
        field in changes and changes[field] != getattr(contact, field) for field in ("opt_in_source", "opt_in_at")
    )
    if consent_changed and _unsubscribed(session, contact):
        raise _refuse_resubscribe(contact, "opt_in_source")
    for field in ("name", "email", "source", "country", "timezone", "language", "opt_in_source", "opt_in_at"):
        if field in changes:
            setattr(contact, field, changes[field] or None)
    if data.tags is not None:
        _tags_changed(session, contact, data.tags)
    if data.custom_data is not None:
        merged = {**contact.custom_data, **data.custom_data}
        contact.custom_data = {key: value for key, value in merged.items() if value is not None}
        if len(contact.custom_data) > MAX_CUSTOM_KEYS:
            raise InvalidInput("custom_data", f"a contact holds at most {MAX_CUSTOM_KEYS} keys")
    if data.priority is not None:
        contact.priority = data.priority
    if data.status is not None:
        _change_status(session, principal, contact, data.status)
    session.flush()
    return _out(session, contact)


def delete_contact(session: Session, contact_id: int) -> None:
    """Delete a contact; an opt-out of its number stays in force."""
    session.delete(load_contact(session, contact_id))
    session.flush()


def add_tags(session: Session, contact_id: int, tags: list[str]) -> ContactOut:
    """Add tags (duplicates ignoring case are skipped)."""
    contact = load_contact(session, contact_id, for_update=True)
    merged = merge_tags(list(contact.tags or []), tags)
    if len(merged) > MAX_TAGS:
        raise InvalidInput("tags", f"a contact holds at most {MAX_TAGS} tags")
    _tags_changed(session, contact, merged)
    session.flush()
    return _out(session, contact)


def _tags_changed(session: Session, contact: Contact, tags: list[str]) -> None:
    """Set the tags and announce the new ones (drips enrol on a tag being added)."""
    before = {t.casefold() for t in contact.tags or []}
    contact.tags = tags
    added = [t for t in tags if t.casefold() not in before]
    if added:
        session.flush()
        events.emit(session, "contact.tag_added", {"contact_id": contact.id, "tags": added})


def remove_tag(session: Session, contact_id: int, tag: str) -> ContactOut:
    """Remove a tag, whatever its case; removing an absent tag changes nothing."""
    try:
        wanted = normalize_tag(tag).casefold()
    except ValueError as exc:
        raise InvalidInput("tag", str(exc)) from None
    contact = load_contact(session, contact_id, for_update=True)
    kept = [t for t in contact.tags or [] if t.casefold() != wanted]
    if len(kept) != len(contact.tags or []):
        contact.tags = kept
        session.flush()
    return _out(session, contact)


def query_filter(session: Session, query: ContactQuery) -> ColumnElement[bool]:
    """The WHERE clause of the list/export query parameters, through the segment rule engine."""
    leaves: list[Node] = []
    if query.status is not None:
        leaves.append(Leaf("status", "eq", query.status))
    # Same whitespace rule as stored tags; a tag no contact can carry simply matches nothing.
    tags = [" ".join(t.split()) for t in query.tag if t.strip()]
    if tags:
        leaves.append(Leaf("tags", {"all": "has_all", "any": "has_any", "none": "has_none"}[query.tags_mode], tags))
    for field, op, value in (
        ("created_at", "after", query.created_after),
        ("created_at", "before", query.created_before),
        ("last_contacted_at", "after", query.last_contacted_after),
        ("last_contacted_at", "before", query.last_contacted_before),
        ("opted_out", "eq", query.opted_out),
    ):
        if value is not None:
            leaves.append(Leaf(field, op, value))
    clause = segments.contact_filter(session, Group("all", tuple(leaves)))
    if query.q:
        clause = and_(clause, repo.search_clauses(query.q)[0])
    if query.segment_id is not None:
        clause = and_(clause, segments.resolve_segment_filter(session, query.segment_id))
    return clause


def list_contacts(
    session: Session, query: ContactQuery, *, cursor: str | None, limit: int, sort: repo.ContactSort
) -> Page[ContactOut]:
    """A keyset page of the contacts matching the list filters."""
    return repo.page_contacts(session, query_filter(session, query), cursor=cursor, limit=limit, sort=sort)


def filter_contacts(session: Session, rules: str, *, cursor: str | None, limit: int) -> Page[ContactOut]:
    """A page of the contacts matching a JSON rule tree (the segment rule language)."""
    try:
        node = parse_rules_json(rules)
    except RuleError as exc:
        raise InvalidInput(exc.path, exc.problem) from None
    return repo.page_contacts(session, segments.contact_filter(session, node), cursor=cursor, limit=limit)


def search_contacts(session: Session, q: str, *, cursor: str | None, limit: int) -> Page[ContactOut]:
    """Contacts whose name, email or phone contains `q`; prefix matches first."""
    if not q.strip():
        raise InvalidInput("q", "type something to search for")
    return repo.search_page(session, q, cursor=cursor, limit=limit)


def validate_phone(session: Session, data: PhoneCheck) -> PhoneValidation:
    """Check a number without storing anything; an invalid number is an answer, not an error."""
    try:
        info = parse_phone(data.phone, data.country or tenant_country(session))
    except PhoneError as exc:
        return PhoneValidation(valid=False, reason=str(exc))
    return PhoneValidation(
        valid=True,
        e164=info.e164,
        international=info.international,
        country=info.country,
        number_type=info.number_type,
        timezone=info.timezone,
        language=info.language,
    )
