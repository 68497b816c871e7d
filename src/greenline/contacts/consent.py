"""Per-contact consent: the opt-out shortcut, re-subscribing with a recorded source, the history."""

from __future__ import annotations

from sqlalchemy.orm import Session

from greenline.contacts import repository as repo
from greenline.contacts.schemas import ContactOut
from greenline.contacts.service import load_contact
from greenline.core.pagination import Page
from greenline.core.principal import Principal
from greenline.optouts import service as optouts
from greenline.optouts.schemas import ConsentEventOut, OptInRequest, OptOutRequest


def opt_out_contact(session: Session, principal: Principal, contact_id: int, data: OptOutRequest) -> ContactOut:
    """Opt the contact's number out of all marketing (the per-contact shortcut of POST /unsubscribers/)."""
    contact = load_contact(session, contact_id, for_update=True)
    optouts.opt_out(
        session,
        contact.phone,
        reason=data.reason,
        source=optouts.consent_source(principal),
        actor_user_id=principal.user_id,
    )
    session.refresh(contact)
    return repo.contact_out(contact, True)


def opt_in_contact(session: Session, principal: Principal, contact_id: int, data: OptInRequest) -> ContactOut:
    """Re-subscribe the contact on explicit consent, recording where the consent came from."""
    contact = load_contact(session, contact_id, for_update=True)
    optouts.opt_in(session, contact.phone, source=data.source, note=data.note, actor_user_id=principal.user_id)
    session.refresh(contact)
    return repo.contact_out(contact, False)


def consent_history(session: Session, contact_id: int, *, cursor: str | None, limit: int) -> Page[ConsentEventOut]:
    """The opt-ins and opt-outs recorded for the contact's number, newest first."""
    contact = load_contact(session, contact_id)
    return optouts.consent_history(session, contact.phone, cursor=cursor, limit=limit)
