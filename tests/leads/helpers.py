"""Builders for lead tests: contacts inserted through a bound session, leads through the API."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from greenline.core.runtime import Runtime
from greenline.models import Contact, Lead, LeadStatusChange
from greenline.models.enums import LeadStatus
from tests.factories import Actor

_phones = itertools.count(1)
LEADS = "/api/v1/leads"


def make_contact(
    runtime: Runtime,
    actor: Actor,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    tags: Iterable[str] = (),
) -> int:
    """A contact of the actor's tenant with a fresh E.164 phone."""
    assert actor.tenant_id is not None
    with runtime.task_session(actor.tenant_id) as session:
        contact = Contact(
            phone=phone or f"+1415555{next(_phones) % 10_000:04d}", name=name, email=email, tags=list(tags)
        )
        session.add(contact)
        session.flush()
        return contact.id


def make_lead(client: TestClient, runtime: Runtime, actor: Actor, **fields: Any) -> dict[str, Any]:
    """A lead created through the API (on a new contact unless contact_id is given)."""
    body = {"contact_id": fields.pop("contact_id", None) or make_contact(runtime, actor), **fields}
    response = client.post(f"{LEADS}/", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def set_lead(runtime: Runtime, actor: Actor, lead_id: int, **values: Any) -> None:
    """Write columns the API does not let callers set (e.g. created_at)."""
    assert actor.tenant_id is not None
    with runtime.task_session(actor.tenant_id) as session:
        session.execute(update(Lead).where(Lead.id == lead_id).values(**values))


def set_history(
    runtime: Runtime, actor: Actor, lead_id: int, moves: Iterable[tuple[LeadStatus | None, LeadStatus, dt.datetime]]
) -> None:
    """Replace a lead's status history with moves at controlled times."""
    assert actor.tenant_id is not None
    with runtime.task_session(actor.tenant_id) as session:
        session.execute(delete(LeadStatusChange).where(LeadStatusChange.lead_id == lead_id))
        for from_status, to_status, at in moves:
            session.add(LeadStatusChange(lead_id=lead_id, from_status=from_status, to_status=to_status, created_at=at))


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def error_field(response: Any) -> str:
    """The field named by the first entry of an error body."""
    details = response.json()["error"]["details"]
    field: str = details[0]["field"]
    return field.removeprefix("body.").removeprefix("query.")
