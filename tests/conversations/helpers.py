"""Builders for conversation tests: contacts and raw rows through a bound session, the rest through the API."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from greenline.core.runtime import Runtime
from greenline.models import Contact, Conversation, Message
from tests.factories import Actor

CONVERSATIONS = "/api/v1/conversations"
_phones = itertools.count(1)


def make_contact(
    runtime: Runtime, actor: Actor, *, name: str | None = None, phone: str | None = None, tags: Iterable[str] = ()
) -> int:
    """A contact of the actor's tenant with a fresh E.164 phone."""
    assert actor.tenant_id is not None
    with runtime.task_session(actor.tenant_id) as session:
        contact = Contact(phone=phone or f"+1415555{next(_phones) % 10_000:04d}", name=name, tags=list(tags))
        session.add(contact)
        session.flush()
        return contact.id


def open_conversation(client: TestClient, runtime: Runtime, actor: Actor, **fields: Any) -> dict[str, Any]:
    """A conversation created through the API (with a new contact unless contact_id is given)."""
    body = {"contact_id": fields.pop("contact_id", None) or make_contact(runtime, actor), **fields}
    response = client.post(f"{CONVERSATIONS}/", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def send(client: TestClient, actor: Actor, conversation_id: int, **body: Any) -> dict[str, Any]:
    response = client.post(f"{CONVERSATIONS}/{conversation_id}/messages", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def set_conversation(runtime: Runtime, actor: Actor, conversation_id: int, **values: Any) -> None:
    """Write columns the API does not let callers set (e.g. last_message_at)."""
    assert actor.tenant_id is not None
    with runtime.task_session(actor.tenant_id) as session:
        session.execute(update(Conversation).where(Conversation.id == conversation_id).values(**values))


def set_message(runtime: Runtime, actor: Actor, message_id: int, **values: Any) -> None:
    """Play the channel layer: move a message's status and timestamps.

    Sending runs in the background after commit (here it fails: the tenant has no number), so wait
    for it to settle first; otherwise its result could land after ours.
    """
    assert actor.tenant_id is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with runtime.db.session(actor.tenant_id) as session:
            current = session.scalar(select(Message.status).where(Message.id == message_id))
        if current not in ("queued", "sending"):
            break
        time.sleep(0.02)
    # Replace the background send's outcome entirely.
    values = {"failed_at": None, "error_code": None, "error_message": None, **values}
    with runtime.task_session(actor.tenant_id) as session:
        session.execute(update(Message).where(Message.id == message_id).values(**values))


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def error_field(response: Any) -> str:
    """The field named by the first entry of an error body."""
    details = response.json()["error"]["details"]
    field: str = details[0]["field"]
    return field.removeprefix("body.").removeprefix("query.")
