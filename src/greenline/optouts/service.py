"""Opt-outs: an opted-out number gets no marketing message from the tenant, whatever the campaign.

Consent is tracked per number (E.164), not per contact: a STOP from a number that is
not (yet) a contact still counts, and deleting a contact never re-subscribes it.
Every change is recorded as a ConsentEvent so consent can be proven later.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import ColumnElement, Exists, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute, Session

from greenline.contacts.phones import consent_phone, phone_digits
from greenline.core import events
from greenline.core.db import session_tenant, utcnow
from greenline.core.errors import NotFound
from greenline.core.pagination import Page, keyset_page, split_page
from greenline.core.principal import Principal
from greenline.models import ConsentEvent, Contact, Unsubscriber
from greenline.models.enums import ConsentKind, ContactStatus
from greenline.optouts.schemas import ConsentEventOut, UnsubscriberOut

log = structlog.get_logger(__name__)


def consent_source(principal: Principal) -> str:
    """Source recorded for a consent change whose caller names none."""
    return "api" if principal.is_api_key else "manual"


def opted_out_clause(
    phone: ColumnElement[Any] | QueryableAttribute[Any], tenant_id: ColumnElement[Any] | QueryableAttribute[Any]
) -> Exists:
    """SQL `EXISTS` that is true when `phone` is opted out of `tenant_id`: exclude recipients set-based.

    Campaigns use it as `~opted_out_clause(Contact.phone, Contact.tenant_id)` inside INSERT ... SELECT;
    it probes the unique (tenant_id, phone) index once per row.
    """
    return select(Unsubscriber.id).where(Unsubscriber.tenant_id == tenant_id, Unsubscriber.phone == phone).exists()


def contact_opted_out() -> Exists:
    """`EXISTS` clause: the contact's number is opted out (correlated to the enclosing contacts query)."""
    return opted_out_clause(Contact.phone, Contact.tenant_id)


def is_opted_out_e164(session: Session, e164: str) -> bool:
    """Whether an E.164 number is opted out of the session's tenant."""
    return session.scalar(select(Unsubscriber.id).where(Unsubscriber.phone == e164)) is not None


def is_opted_out(session: Session, phone: str) -> bool:
    """Whether `phone` (any format) is opted out of the session's tenant."""
    return is_opted_out_e164(session, consent_phone(session, phone))


def _insert_unsubscriber(session: Session, values: dict[str, Any]) -> bool:
    """Insert the opt-out unless one exists (two STOPs racing must not fail); True when inserted."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Unsubscriber).values(**values).on_conflict_do_nothing(index_elements=["tenant_id", "phone"])
    result = session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


def opt_out(
    session: Session,
    phone: str,
    *,
    reason: str | None,
    source: str,
    campaign_id: int | None = None,
    actor_user_id: int | None = None,
) -> tuple[Unsubscriber, bool]:
    """Opt a number out of the tenant's marketing (idempotent); returns the row and whether it is new.

    Records a ConsentEvent and marks every contact with that number `unsubscribed`. `source` is a short
    machine-readable origin (at most 32 characters, e.g. `whatsapp_keyword`).
    """
    e164 = consent_phone(session, phone)
    tenant_id = session_tenant(session)
    row = session.scalar(select(Unsubscriber).where(Unsubscriber.phone == e164))
    created = False
    if row is None:
        values = {"tenant_id": tenant_id, "phone": e164, "reason": reason, "source": source}
        created = _insert_unsubscriber(session, {**values, "campaign_id": campaign_id, "date": utcnow()})
        row = session.scalar(
            select(Unsubscriber).where(Unsubscriber.phone == e164).execution_options(populate_existing=True)
        )
        assert row is not None
    if not created:
        # The first opt-out date stays; the latest reason and origin are kept for support.
        row.source = source
        if reason is not None:
            row.reason = reason
        if campaign_id is not None:
            row.campaign_id = campaign_id
    session.add(
        ConsentEvent(
            phone=e164,
            kind=ConsentKind.opt_out,
            source=source,
            reason=reason,
            campaign_id=campaign_id,
            actor_user_id=actor_user_id,
        )
    )
    session.execute(
        update(Contact)
        .where(Contact.phone == e164, Contact.status != ContactStatus.unsubscribed)
        .values(status=ContactStatus.unsubscribed)
    )
    session.flush()
    log.info("optouts.opted_out", source=source, campaign_id=campaign_id, created=created)
    if created:
        # Other domains react in this unit of work (campaigns stop their further steps at once).
        events.emit(session, "contact.opted_out", {"tenant_id": tenant_id, "phone": e164, "source": source})
    return row, created


def opt_in(session: Session, phone: str, *, source: str, note: str | None, actor_user_id: int | None) -> None:
    """Re-subscribe a number on explicit consent: drop the opt-out, record the opt-in, reactivate its contacts."""
    e164 = consent_phone(session, phone)
    session.execute(delete(Unsubscriber).where(Unsubscriber.phone == e164))
    session.add(
        ConsentEvent(phone=e164, kind=ConsentKind.opt_in, source=source, reason=note, actor_user_id=actor_user_id)
    )
    session.execute(
        update(Contact)
        .where(Contact.phone == e164)
        .values(status=ContactStatus.active, opt_in_source=source, opt_in_at=utcnow())
    )
    session.flush()
    log.info("optouts.opted_in", source=source)


def record_opt_in(session: Session, phone: str, *, source: str, actor_user_id: int | None) -> None:
    """Record consent given when a contact is created (no opt-out to lift)."""
    session.add(ConsentEvent(phone=phone, kind=ConsentKind.opt_in, source=source, actor_user_id=actor_user_id))


def list_unsubscribers(session: Session, *, q: str | None, cursor: str | None, limit: int) -> Page[UnsubscriberOut]:
    """Opted-out numbers, newest first; `q` matches any part of the number."""
    stmt = select(Unsubscriber)
    digits = phone_digits(q or "")
    if q and digits:
        stmt = stmt.where(Unsubscriber.phone.contains(digits, autoescape=True))
    elif q:
        return Page(items=[])
    stmt = keyset_page(stmt, [Unsubscriber.id.expression], cursor, limit, descending=True, coerce=[int])
    rows = session.scalars(stmt).all()
    items, next_cursor = split_page(rows, limit, lambda u: [u.id])
    return Page(items=[UnsubscriberOut.model_validate(u) for u in items], next_cursor=next_cursor)


def get_unsubscriber(session: Session, phone: str) -> Unsubscriber:
    """The opt-out of `phone` (any format); 404 when the number is not opted out."""
    e164 = consent_phone(session, phone)
    row = session.scalar(select(Unsubscriber).where(Unsubscriber.phone == e164))
    if row is None:
        raise NotFound("this number is not opted out")
    return row


def consent_history(session: Session, phone: str, *, cursor: str | None, limit: int) -> Page[ConsentEventOut]:
    """Opt-ins and opt-outs of a number, newest first."""
    stmt = keyset_page(
        select(ConsentEvent).where(ConsentEvent.phone == phone),
        [ConsentEvent.id.expression],
        cursor,
        limit,
        descending=True,
        coerce=[int],
    )
    rows = session.scalars(stmt).all()
    items, next_cursor = split_page(rows, limit, lambda e: [e.id])
    return Page(items=[ConsentEventOut.model_validate(e) for e in items], next_cursor=next_cursor)
