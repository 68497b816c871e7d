"""Incoming WhatsApp messages: find or create the contact, store the message, run the hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.channels.base import IncomingMessage
from greenline.conversations.messages import record_inbound_message
from greenline.core import events
from greenline.core.phones import PhoneError, parse_phone
from greenline.models import Contact, Conversation, Message, SenderNumber
from greenline.models.enums import Direction


def ensure_contact(session: Session, phone: str, profile_name: str | None) -> Contact:
    """The tenant's contact for a WhatsApp sender, created on first contact (source "whatsapp")."""
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    if contact is not None:
        if not contact.name and profile_name:
            contact.name = profile_name[:200]
        return contact
    try:
        info = parse_phone(phone)
        country, timezone, language = info.country, info.timezone, info.language
    except PhoneError:
        country = timezone = language = None
    contact = Contact(
        phone=phone,
        name=(profile_name or "")[:200] or None,
        source="whatsapp",
        country=country,
        timezone=timezone,
        language=language,
        tags=[],
        custom_data={},
    )
    session.add(contact)
    session.flush()
    return contact


def apply_incoming(session: Session, sender: SenderNumber, messages: Sequence[IncomingMessage]) -> int:
    """Record each message once (providers redeliver) and emit `message.received` for the new ones."""
    stored = 0
    ids = [m.provider_message_id for m in messages]
    seen = set(
        session.scalars(
            select(Message.provider_message_id).where(
                Message.provider_message_id.in_(ids), Message.direction == Direction.inbound
            )
        )
    )
    for incoming in messages:
        if incoming.provider_message_id in seen:
            continue
        seen.add(incoming.provider_message_id)
        contact = ensure_contact(session, incoming.sender, incoming.profile_name)
        media = incoming.media or {}
        message = record_inbound_message(
            session,
            contact.id,
            incoming.text,
            media_url=media.get("url") or media.get("id"),
            media_type=media.get("mime_type") or media.get("mimetype") or media.get("type"),
            provider_message_id=incoming.provider_message_id,
            reply_to_provider_id=incoming.reply_to,
            received_at=incoming.received_at,
        )
        message.sender_number_id = sender.id
        conversation = session.get(Conversation, message.conversation_id) if message.conversation_id else None
        if conversation is not None and conversation.sender_number_id is None:
            conversation.sender_number_id = sender.id
        data: dict[str, Any] = {
            "tenant_id": sender.tenant_id,
            "sender_number_id": sender.id,
            "contact_id": contact.id,
            "phone": contact.phone,
            "conversation_id": message.conversation_id,
            "message_id": message.id,
            "text": incoming.text,
            "kind": incoming.kind,
            "received_at": incoming.received_at.isoformat(),
        }
        events.emit(session, "message.received", data)
        stored += 1
    return stored
