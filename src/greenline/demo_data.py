"""Realistic CRM data for the demo tenant: contacts in several countries, segments, inbox, pipeline.

Deterministic (seeded) so every first run looks the same; written set-based, and only into an empty
tenant so running `make run` twice keeps what the user changed.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import phonenumbers
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from greenline.core.db import utcnow
from greenline.core.phones import COUNTRY_LANGUAGE, PhoneError, parse_phone
from greenline.models import (
    Contact,
    Conversation,
    ConversationNote,
    Lead,
    LeadStatusChange,
    Message,
    Segment,
    Unsubscriber,
)
from greenline.models.enums import (
    LEAD_PIPELINE,
    ContactStatus,
    ConversationStatus,
    Direction,
    LeadStatus,
    MessageStatus,
    Priority,
)

COUNTRIES = {
    "US": (["James", "Olivia", "Liam", "Emma", "Noah", "Ava"], ["Smith", "Johnson", "Brown", "Garcia", "Miller"]),
    "GB": (["Oliver", "Amelia", "George", "Isla", "Harry"], ["Taylor", "Davies", "Evans", "Wilson", "Walker"]),
    "BR": (["Lucas", "Ana", "Gabriel", "Beatriz", "Pedro"], ["Silva", "Santos", "Oliveira", "Souza", "Lima"]),
    "IN": (["Aarav", "Priya", "Vihaan", "Ananya", "Rohan"], ["Sharma", "Patel", "Singh", "Kumar", "Gupta"]),
    "DE": (["Lukas", "Mia", "Leon", "Hannah", "Finn"], ["Müller", "Schmidt", "Schneider", "Fischer", "Weber"]),
    "MX": (["Santiago", "Sofía", "Mateo", "Valentina", "Diego"], ["Hernández", "López", "Martínez", "Pérez"]),
    "ID": (["Budi", "Siti", "Agus", "Dewi", "Rizky"], ["Santoso", "Wijaya", "Saputra", "Hidayat"]),
    "ES": (["Hugo", "Lucía", "Martín", "Paula", "Daniel"], ["García", "Fernández", "González", "Rodríguez"]),
}
TAGS = ["vip", "newsletter", "customer", "wholesale", "black-friday", "webinar", "trial", "returning"]
CITIES = {"US": "Austin", "GB": "Leeds", "BR": "São Paulo", "IN": "Pune", "DE": "Hamburg", "MX": "Monterrey",
          "ID": "Bandung", "ES": "Valencia"}  # fmt: skip
INBOUND = [
    "Hi! Is the summer collection still on sale?",
    "Can you send me the price list?",
    "Olá, vocês entregam em Campinas?",
    "Hola, ¿tienen envío gratis?",
    "Thanks, I just placed the order 🙌",
    "What are your opening hours on Sunday?",
    "I'm interested, can someone call me?",
    "Kya aap COD dete ho?",
]
OUTBOUND = [
    "Hi {name}, thanks for reaching out! Yes, the sale runs until Sunday.",
    "Here is our latest price list: https://example.com/prices.pdf",
    "Our team will call you today between 2 and 4 pm.",
    "Thank you for your order! We'll send tracking details shortly.",
]


def _numbers(rng: random.Random, country: str, count: int) -> list[str]:
    """Valid mobile numbers for a country, derived from its example number."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    base = str(example.national_number)
    found: list[str] = []
    seen: set[str] = set()
    attempts = 0
    while len(found) < count and attempts < count * 20:
        attempts += 1
        tail = str(rng.randrange(10**5)).zfill(5)
        candidate = f"+{example.country_code}{base[:-5]}{tail}"
        try:
            e164 = parse_phone(candidate).e164
        except PhoneError:
            continue
        if e164 not in seen:
            seen.add(e164)
            found.append(e164)
    return found


def _contacts(rng: random.Random, tenant_id: int, total: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    now = utcnow()
    per_country = total // len(COUNTRIES)
    for country, (first, last) in COUNTRIES.items():
        info_tz = None
        for phone in _numbers(rng, country, per_country):
            info_tz = info_tz or parse_phone(phone).timezone
            created = now - dt.timedelta(days=rng.randrange(1, 365), minutes=rng.randrange(1440))
            name = f"{rng.choice(first)} {rng.choice(last)}"
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "phone": phone,
                    "name": name,
                    "email": f"{name.split()[0].lower()}.{rng.randrange(10**4)}@example.com"
                    if rng.random() < 0.6
                    else None,
                    "tags": rng.sample(TAGS, k=rng.choice([0, 1, 1, 2, 2, 3])),
                    "custom_data": {
                        "city": CITIES[country],
                        "lifetime_value": round(rng.uniform(0, 2500), 2),
                        "orders": rng.randrange(0, 30),
                    },
                    "priority": rng.choice(list(Priority)),
                    "source": rng.choice(["website", "instagram", "import", "store", "referral"]),
                    "status": ContactStatus.active,
                    "country": country,
                    "timezone": info_tz,
                    "language": COUNTRY_LANGUAGE.get(country),
                    "opt_in_source": "website form",
                    "opt_in_at": created,
                    "created_at": created,
                    "updated_at": created,
                    "last_contacted_at": now - dt.timedelta(days=rng.randrange(0, 60)) if rng.random() < 0.5 else None,
                }
            )
    return rows


def seed_crm(session: Session, tenant_id: int, admin_user_id: int, *, contacts: int = 3000) -> bool:
    """Fill an empty demo tenant; returns False when it already has contacts."""
    if session.scalar(select(func.count()).select_from(Contact)):
        return False
    rng = random.Random(20261126)  # noqa: S311 - demo data, not security
    session.execute(insert(Contact), _contacts(rng, tenant_id, contacts))
    ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
    phones = dict(session.execute(select(Contact.id, Contact.phone)).all())
    names = dict(session.execute(select(Contact.id, Contact.name)).all())

    opted_out = rng.sample(ids, k=len(ids) // 50)
    session.execute(
        insert(Unsubscriber),
        [
            {"tenant_id": tenant_id, "phone": phones[c], "reason": "replied STOP", "source": "keyword"}
            for c in opted_out
        ],
    )
    session.query(Contact).filter(Contact.id.in_(opted_out)).update(
        {Contact.status: ContactStatus.unsubscribed}, synchronize_session=False
    )
    session.add_all(
        [
            Segment(tenant_id=tenant_id, name="VIP customers", description="Tagged vip and customer",
                    rules={"all": [{"field": "tags", "op": "has_all", "value": ["vip", "customer"]}]},
                    created_by=admin_user_id),
            Segment(tenant_id=tenant_id, name="Brazil & Mexico newsletter",
                    description="Newsletter subscribers in Brazil or Mexico",
                    rules={"all": [{"field": "tags", "op": "has", "value": "newsletter"},
                                   {"field": "country", "op": "in", "value": ["BR", "MX"]}]},
                    created_by=admin_user_id),
        ]
    )  # fmt: skip
    _seed_inbox(session, rng, tenant_id, admin_user_id, [c for c in ids if c not in set(opted_out)][:150], names)
    _seed_pipeline(session, rng, tenant_id, admin_user_id, ids[200:500])
    session.flush()
    return True


def _seed_inbox(
    session: Session,
    rng: random.Random,
    tenant_id: int,
    admin: int,
    contact_ids: list[int],
    names: dict[int, str | None],
) -> None:
    now = utcnow()
    for i, contact_id in enumerate(contact_ids):
        started = now - dt.timedelta(hours=rng.randrange(19, 24 * 14))  # its last turn stays in the past
        status = [ConversationStatus.open, ConversationStatus.pending, ConversationStatus.closed][i % 3]
        conversation = Conversation(tenant_id=tenant_id, contact_id=contact_id, status=status, started_at=started,
                                    assigned_to=admin if i % 2 == 0 else None)  # fmt: skip
        session.add(conversation)
        session.flush()
        at = started
        unread = 0
        rows: list[dict[str, Any]] = []
        last_inbound = started
        for turn in range(rng.randrange(2, 7)):
            at += dt.timedelta(minutes=rng.randrange(2, 180))
            inbound = turn % 2 == 0
            body = (
                rng.choice(INBOUND)
                if inbound
                else rng.choice(OUTBOUND).format(name=(names[contact_id] or "").split()[0])
            )
            rows.append(
                {
                    "tenant_id": tenant_id, "conversation_id": conversation.id, "contact_id": contact_id,
                    "direction": Direction.inbound if inbound else Direction.outbound, "kind": "text", "body": body,
                    "status": MessageStatus.received if inbound else MessageStatus.read, "created_at": at,
                    "received_at": at if inbound else None, "sent_at": None if inbound else at,
                    "delivered_at": None if inbound else at + dt.timedelta(seconds=2),
                    "read_at": None if inbound else at + dt.timedelta(minutes=3),
                    "provider_message_id": f"demo.{conversation.id}.{turn}",
                }
            )  # fmt: skip
            unread = unread + 1 if inbound else 0
            last_inbound = at if inbound else last_inbound
        session.execute(insert(Message), rows)
        conversation.last_message_at = at
        conversation.last_message_preview = rows[-1]["body"][:200]
        conversation.last_inbound_at = last_inbound
        conversation.unread_count = unread if status != ConversationStatus.closed else 0
        if i % 10 == 0:
            session.add(ConversationNote(tenant_id=tenant_id, conversation_id=conversation.id, author_id=admin,
                                         body="Asked about bulk pricing; follow up next week."))  # fmt: skip


def _seed_pipeline(session: Session, rng: random.Random, tenant_id: int, admin: int, contact_ids: list[int]) -> None:
    now = utcnow()
    stages = [*LEAD_PIPELINE, LeadStatus.lost]
    for i, contact_id in enumerate(contact_ids):
        final = stages[i % len(stages)]
        created = now - dt.timedelta(days=rng.randrange(5, 120))
        is_open = final not in (LeadStatus.won, LeadStatus.lost)
        path = list(LEAD_PIPELINE[: LEAD_PIPELINE.index(final) + 1]) if final != LeadStatus.lost else [
            *LEAD_PIPELINE[: rng.randrange(1, 4)], LeadStatus.lost]  # fmt: skip
        changed = created
        lead = Lead(
            tenant_id=tenant_id, contact_id=contact_id, title=f"Deal #{1000 + i}", status=final,
            priority=rng.choice(list(Priority)), score=rng.randrange(5, 100), assigned_to=admin if i % 3 else None,
            value=Decimal(rng.randrange(50, 5000)), currency="USD", source=rng.choice(["whatsapp", "website", "event"]),
            next_follow_up_at=now + dt.timedelta(days=rng.randrange(-10, 20)) if is_open else None,
            created_at=created, updated_at=created, status_changed_at=created,
            lost_reason="went with a competitor" if final == LeadStatus.lost else None,
        )  # fmt: skip
        session.add(lead)
        session.flush()
        previous: LeadStatus | None = None
        for stage in path:
            session.add(LeadStatusChange(tenant_id=tenant_id, lead_id=lead.id, from_status=previous, to_status=stage,
                                         changed_by=admin, created_at=changed))  # fmt: skip
            previous = stage
            changed += dt.timedelta(days=rng.randrange(1, 10))
        lead.status_changed_at = min(changed, now)
        if final == LeadStatus.won:
            lead.won_at = lead.status_changed_at
        if final == LeadStatus.lost:
            lead.lost_at = lead.status_changed_at
