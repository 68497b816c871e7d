"""Contact queries: pages with the `opted_out` flag computed in SQL, search clauses."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, Select, case, or_, select
from sqlalchemy.orm import Session

from greenline.contacts.phones import looks_like_phone, phone_digits
from greenline.contacts.schemas import ContactOut
from greenline.core.pagination import Page, keyset_page, split_page
from greenline.models import Contact
from greenline.optouts.service import contact_opted_out

ContactSort = Literal["newest", "id"]


def contact_out(contact: Contact, opted_out: bool) -> ContactOut:
    """The API view of a contact."""
    return ContactOut(
        id=contact.id,
        phone=contact.phone,
        name=contact.name,
        email=contact.email,
        tags=list(contact.tags or []),
        custom_data=dict(contact.custom_data or {}),
        priority=contact.priority,
        source=contact.source,
        status=contact.status,
        country=contact.country,
        timezone=contact.timezone,
        language=contact.language,
        opt_in_source=contact.opt_in_source,
        opt_in_at=contact.opt_in_at,
        last_contacted_at=contact.last_contacted_at,
        opted_out=opted_out,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def with_opt_out() -> Select[Any]:
    """SELECT contacts together with whether each one's number is opted out."""
    return cast(Select[Any], select(Contact, contact_opted_out().label("opted_out")))


def find_contact(session: Session, contact_id: int, *, for_update: bool = False) -> Contact | None:
    """One contact of the tenant (locked for the transaction when `for_update`, on PostgreSQL)."""
    stmt = select(Contact).where(Contact.id == contact_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def contact_id_by_phone(session: Session, phone: str) -> int | None:
    """The id of the tenant's contact with this E.164 number."""
    return session.scalar(select(Contact.id).where(Contact.phone == phone))


def page_contacts(
    session: Session,
    where: ColumnElement[bool] | None,
    *,
    cursor: str | None,
    limit: int,
    sort: ContactSort = "newest",
) -> Page[ContactOut]:
    """A keyset page of contacts matching `where`: newest first, or by id ascending. Never counts."""
    stmt = with_opt_out()
    if where is not None:
        stmt = stmt.where(where)
    if sort == "newest":
        stmt = keyset_page(
            stmt,
            [Contact.created_at.expression, Contact.id.expression],
            cursor,
            limit,
            descending=True,
            coerce=[dt.datetime.fromisoformat, int],
        )
        rows = session.execute(stmt).all()
        items, next_cursor = split_page(rows, limit, lambda row: [row[0].created_at.isoformat(), row[0].id])
    else:
        stmt = keyset_page(stmt, [Contact.id.expression], cursor, limit, coerce=[int])
        rows = session.execute(stmt).all()
        items, next_cursor = split_page(rows, limit, lambda row: [row[0].id])
    return Page(items=[contact_out(contact, bool(flag)) for contact, flag in items], next_cursor=next_cursor)


def search_clauses(q: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(matches, prefix-matches) for a search box: name and email ignoring case, phone by its digits."""
    text = q.strip()
    matches: list[ColumnElement[bool]] = [Contact.name.icontains(text, autoescape=True)]
    prefixes: list[ColumnElement[bool]] = [Contact.name.istartswith(text, autoescape=True)]
    if "@" in text or not looks_like_phone(text):
        matches.append(Contact.email.icontains(text, autoescape=True))
        prefixes.append(Contact.email.istartswith(text, autoescape=True))
    if looks_like_phone(text):
        digits = phone_digits(text)
        matches.append(Contact.phone.contains(digits, autoescape=True))
        prefixes.append(Contact.phone.startswith("+" + digits, autoescape=True))
        national = digits.lstrip("0")
        if national != digits and len(national) >= 3:
            # "0151 234..." typed the national way: the trunk 0 is not part of the E.164 number.
            matches.append(Contact.phone.contains(national, autoescape=True))
    return or_(*matches), or_(*prefixes)


def search_page(session: Session, q: str, *, cursor: str | None, limit: int) -> Page[ContactOut]:
    """Contacts matching `q`, prefix matches first, then newest id first."""
    matches, prefixes = search_clauses(q)
    rank: ColumnElement[Any] = case((prefixes, 1), else_=0)
    stmt = with_opt_out().add_columns(rank.label("rank")).where(matches)
    stmt = keyset_page(stmt, [rank, Contact.id.expression], cursor, limit, descending=True, coerce=[int, int])
    rows = session.execute(stmt).all()
    items, next_cursor = split_page(rows, limit, lambda row: [row[2], row[0].id])
    return Page(items=[contact_out(row[0], bool(row[1])) for row in items], next_cursor=next_cursor)
