"""Messages, their pagination and ticks, notes, read state and auto-reply settings."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from greenline.conversations.messages import record_inbound_message
from greenline.models import Message
from tests.conversations.helpers import (
    CONVERSATIONS,
    error_field,
    ids,
    make_contact,
    open_conversation,
    send,
)
from tests.factories import Factory


def test_send_message_is_queued_and_updates_the_conversation(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    url = f"{CONVERSATIONS}/{conversation['id']}"
    first = send(client, admin, conversation["id"], body="Hello *there*")
    assert (first["direction"], first["kind"], first["sent_by"]) == ("outbound", "text", admin.user_id)
    ticks = first["ticks"]
    assert ticks["status"] == "queued"
    assert ticks["queued_at"] is not None
    assert [ticks[k] for k in ("sent_at", "delivered_at", "read_at", "failed_at", "error_code")] == [None] * 5

    photo = send(
        client,
        admin,
        conversation["id"],
        media_url="https://cdn.example.com/a.jpg",
        media_type="Image/JPEG",
        reply_to_id=first["id"],
    )
    assert (photo["kind"], photo["media_type"], photo["body"], photo["reply_to_id"]) == (
        "image",
        "image/jpeg",
        None,
        first["id"],
    )
    after = client.get(url, headers=admin.headers).json()
    assert after["last_message_preview"] == "[image]"
    assert after["last_message_at"] >= first["created_at"]

    client.put(f"{url}/status", json={"status": "closed"}, headers=admin.headers)
    send(client, admin, conversation["id"], body="reopening")
    assert client.get(url, headers=admin.headers).json()["status"] == "open"

    key = factory.api_key(admin)
    by_key = client.post(f"{url}/messages", json={"body": "from an integration"}, headers=key.headers)
    assert by_key.status_code == 201
    assert by_key.json()["sent_by"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({}, "body"),
        ({"body": "x" * 4097}, "body"),
        ({"media_url": "https://cdn.example.com/a.pdf"}, "media_type"),
        ({"body": "x", "media_type": "application/pdf"}, "media_url"),
        ({"media_url": "ftp://host/a.pdf", "media_type": "application/pdf"}, "media_url"),
        ({"media_url": "https://host/a", "media_type": "pdf"}, "media_type"),
        ({"body": "x", "reply_to_id": 999_999}, "reply_to_id"),
        ({"body": "x", "reply_to_id": 0}, "reply_to_id"),
    ],
)
def test_send_message_rejects_bad_input_naming_the_field(
    client: TestClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    response = client.post(f"{CONVERSATIONS}/{conversation['id']}/messages", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert error_field(response) == field


def test_reply_to_must_be_in_the_same_conversation(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    one = open_conversation(client, factory.runtime, admin)
    two = open_conversation(client, factory.runtime, admin)
    elsewhere = send(client, admin, two["id"], body="in two")
    response = client.post(
        f"{CONVERSATIONS}/{one['id']}/messages",
        json={"body": "x", "reply_to_id": elsewhere["id"]},
        headers=admin.headers,
    )
    assert (response.status_code, error_field(response)) == (422, "reply_to_id")


def test_messages_page_newest_first_and_poll_for_new_ones(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    assert admin.tenant_id is not None
    with factory.runtime.task_session(admin.tenant_id) as session:
        rows = [
            {
                "tenant_id": admin.tenant_id,
                "conversation_id": conversation["id"],
                "contact_id": conversation["contact_id"],
                "direction": "inbound" if n % 3 else "outbound",
                "status": "received" if n % 3 else "delivered",
                "body": f"message {n}",
            }
            for n in range(320)
        ]
        session.execute(insert(Message), rows)
    url = f"{CONVERSATIONS}/{conversation['id']}/messages"

    seen: list[int] = []
    before: str | None = None
    pages = 0
    while True:
        page = client.get(url, params={"limit": 50} | ({"before": before} if before else {}), headers=admin.headers)
        seen += ids(page)
        pages += 1
        before = page.json()["next_cursor"]
        if before is None:
            break
    assert pages == 7
    assert len(seen) == 320
    assert seen == sorted(seen, reverse=True)
    newest = seen[0]

    assert ids(client.get(url, params={"after": newest}, headers=admin.headers)) == []
    added = [send(client, admin, conversation["id"], body=f"new {n}")["id"] for n in range(3)]
    polled = client.get(url, params={"after": newest, "limit": 2}, headers=admin.headers)
    assert ids(polled) == added[:2]
    rest = client.get(url, params={"after": polled.json()["next_cursor"]}, headers=admin.headers)
    assert ids(rest) == added[2:]
    assert rest.json()["next_cursor"] is None

    both = client.get(url, params={"after": 1, "before": 5}, headers=admin.headers)
    assert (both.status_code, error_field(both)) == (422, "after")
    assert error_field(client.get(url, params={"before": 0}, headers=admin.headers)) == "before"
    assert client.get(url, params={"limit": 501}, headers=admin.headers).status_code == 422


def test_notes_are_added_and_listed_newest_first(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    url = f"{CONVERSATIONS}/{conversation['id']}/notes"
    created = []
    for text in ("one", " two ", "three"):
        response = client.post(url, json={"body": text}, headers=admin.headers)
        assert response.status_code == 201, response.text
        created.append(response.json())
    assert created[1]["body"] == "two"
    assert created[0]["author_id"] == admin.user_id
    page = client.get(url, params={"limit": 2}, headers=admin.headers).json()
    assert [n["id"] for n in page["items"]] == [created[2]["id"], created[1]["id"]]
    rest = client.get(url, params={"cursor": page["next_cursor"]}, headers=admin.headers).json()
    assert [n["id"] for n in rest["items"]] == [created[0]["id"]]
    for bad in ({"body": "  "}, {}, {"body": "x" * 5001}):
        response = client.post(url, json=bad, headers=admin.headers)
        assert (response.status_code, error_field(response)) == (422, "body")


def test_read_resets_the_unread_count(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact_id = make_contact(factory.runtime, admin)
    assert admin.tenant_id is not None
    with factory.runtime.task_session(admin.tenant_id) as session:
        message = record_inbound_message(session, contact_id, "hi")
        record_inbound_message(session, contact_id, "are you there?")
        conversation_id = message.conversation_id
    url = f"{CONVERSATIONS}/{conversation_id}"
    assert client.get(url, headers=admin.headers).json()["unread_count"] == 2
    assert client.get(url, headers=admin.headers).json()["unread_count"] == 2
    read = client.post(f"{url}/read", headers=admin.headers)
    assert read.status_code == 200
    assert read.json()["unread_count"] == 0


def test_auto_reply_settings_are_validated_and_stored(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    url = f"{CONVERSATIONS}/{conversation['id']}"
    assert client.get(url, headers=admin.headers).json()["auto_reply"] is None
    settings = {
        "enabled": True,
        "message": "We are closed, back at 9.",
        "only_outside_hours": True,
        "business_hours": {"start": "09:00", "end": "18:00", "timezone": "Europe/Paris", "days": ["fri", "mon"]},
    }
    response = client.post(f"{url}/auto-reply", json=settings, headers=admin.headers)
    assert response.status_code == 200, response.text
    stored = response.json()
    assert stored["business_hours"]["days"] == ["mon", "fri"]
    assert client.get(url, headers=admin.headers).json()["auto_reply"] == stored
    off = client.post(f"{url}/auto-reply", json={"enabled": False}, headers=admin.headers).json()
    assert (off["enabled"], off["message"]) == (False, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"message": None}, "message"),
        ({"message": "  "}, "message"),
        ({"message": "x" * 1001}, "message"),
        ({"business_hours": None}, "business_hours"),
        ({"business_hours": {"start": "09:00", "end": "09:00"}}, "business_hours.end"),
        ({"business_hours": {"start": "9am", "end": "18:00"}}, "business_hours.start"),
        ({"business_hours": {"start": "09:00", "end": "24:00"}}, "business_hours.end"),
        ({"business_hours": {"start": "09:00", "end": "18:00", "timezone": "Mars/Base"}}, "business_hours.timezone"),
        ({"business_hours": {"start": "09:00", "end": "18:00", "days": []}}, "business_hours.days"),
        ({"business_hours": {"start": "09:00", "end": "18:00", "days": ["funday"]}}, "business_hours.days.0"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_auto_reply_rejects_bad_settings_naming_the_field(
    client: TestClient, factory: Factory, change: dict[str, Any], field: str
) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    settings: dict[str, Any] = {
        "enabled": True,
        "message": "Away",
        "only_outside_hours": True,
        "business_hours": {"start": "09:00", "end": "18:00"},
    } | change
    response = client.post(f"{CONVERSATIONS}/{conversation['id']}/auto-reply", json=settings, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
