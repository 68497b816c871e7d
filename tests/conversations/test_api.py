"""Conversations: create, read, update, delete, list filters, status, archive, bulk delete, active, roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.conversations.helpers import (
    CONVERSATIONS,
    error_field,
    ids,
    make_contact,
    open_conversation,
    send,
    set_conversation,
)
from tests.factories import Factory


def test_create_read_update_delete(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    agent = factory.member(admin, TenantRole.marketer)
    contact_id = make_contact(factory.runtime, admin, name="Ana Lima", phone="+14155550101", tags=["vip"])
    conversation = open_conversation(
        client, factory.runtime, admin, contact_id=contact_id, subject=" Order #12 ", metadata={"crm": "x1"}
    )
    assert conversation["status"] == "open"
    assert conversation["subject"] == "Order #12"
    assert conversation["contact"] == {
        "id": contact_id,
        "phone": "+14155550101",
        "name": "Ana Lima",
        "email": None,
        "tags": ["vip"],
        "status": "active",
    }
    assert conversation["unread_count"] == 0
    assert conversation["last_message_at"] == conversation["started_at"]
    assert conversation["metadata"] == {"crm": "x1"}
    url = f"{CONVERSATIONS}/{conversation['id']}"
    assert client.get(url, headers=admin.headers).json() == conversation

    updated = client.put(
        url, json={"assigned_to": agent.user_id, "subject": None, "metadata": {"crm": "x2"}}, headers=admin.headers
    )
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["assigned_to"], body["subject"], body["metadata"]) == (agent.user_id, None, {"crm": "x2"})
    # Fields left out stay as they are.
    kept = client.put(url, json={"status": "pending"}, headers=admin.headers).json()
    assert (kept["assigned_to"], kept["status"], kept["metadata"]) == (agent.user_id, "pending", {"crm": "x2"})
    unassigned = client.put(url, json={"assigned_to": None}, headers=admin.headers).json()
    assert unassigned["assigned_to"] is None

    send(client, admin, conversation["id"], body="hello")
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(url, headers=admin.headers).status_code == 404
    assert client.get(f"{url}/messages", headers=admin.headers).status_code == 404
    assert client.delete(url, headers=admin.headers).status_code == 404


def test_second_open_conversation_for_a_contact_is_a_conflict(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact_id = make_contact(factory.runtime, admin)
    first = open_conversation(client, factory.runtime, admin, contact_id=contact_id, status="pending")
    again = client.post(f"{CONVERSATIONS}/", json={"contact_id": contact_id}, headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["error"]["details"][0]["conversation_id"] == first["id"]

    client.put(f"{CONVERSATIONS}/{first['id']}/status", json={"status": "closed"}, headers=admin.headers)
    second = open_conversation(client, factory.runtime, admin, contact_id=contact_id)
    assert second["id"] != first["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"contact_id": 999_999}, "contact_id"),
        ({"contact_id": 0}, "contact_id"),
        ({"status": "archived"}, "status"),
        ({"assigned_to": 999_999}, "assigned_to"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"metadata": {"_events": []}}, "metadata"),
        ({"metadata": {"k": "v" * 20_000}}, "metadata"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(
    client: TestClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    admin = factory.tenant()
    payload = {"contact_id": make_contact(factory.runtime, admin), **body}
    response = client.post(f"{CONVERSATIONS}/", json=payload, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert error_field(response) == field


def test_metadata_must_be_plain_json(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact_id = make_contact(factory.runtime, admin)
    raw = f'{{"contact_id": {contact_id}, "metadata": {{"score": NaN}}}}'
    headers = {**admin.headers, "Content-Type": "application/json"}
    response = client.post(f"{CONVERSATIONS}/", content=raw, headers=headers)
    assert (response.status_code, error_field(response)) == (422, "metadata")


def test_contact_and_assignee_of_another_tenant_are_refused(client: TestClient, factory: Factory) -> None:
    admin, other = factory.tenant(), factory.tenant()
    foreign_contact = make_contact(factory.runtime, other)
    response = client.post(f"{CONVERSATIONS}/", json={"contact_id": foreign_contact}, headers=admin.headers)
    assert (response.status_code, error_field(response)) == (422, "contact_id")
    conversation = open_conversation(client, factory.runtime, admin)
    response = client.put(
        f"{CONVERSATIONS}/{conversation['id']}", json={"assigned_to": other.user_id}, headers=admin.headers
    )
    assert (response.status_code, error_field(response)) == (422, "assigned_to")


def test_list_orders_by_activity_and_pages_with_a_cursor(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    base = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    created = [open_conversation(client, factory.runtime, admin)["id"] for _ in range(7)]
    # Two share a timestamp, so the id breaks the tie.
    for offset, conversation_id in zip([3, 1, 4, 1, 5, 9, 2], created, strict=True):
        set_conversation(factory.runtime, admin, conversation_id, last_message_at=base + dt.timedelta(hours=offset))
    expected = [created[i] for i in (5, 4, 2, 0, 6, 3, 1)]

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"{CONVERSATIONS}/", params=params, headers=admin.headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected

    for forged in ("not-a-cursor", "W251bGwsIDFd", "WyIyMDMwLTAxLTAxVDAwOjAwOjAwIiwgMV0"):  # [null, 1], naive time
        bad = client.get(f"{CONVERSATIONS}/", params={"cursor": forged}, headers=admin.headers)
        assert (bad.status_code, error_field(bad)) == (422, "cursor")


def test_list_filters(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    agent = factory.member(admin, TenantRole.marketer)
    runtime = factory.runtime
    vip = open_conversation(
        client, runtime, admin, contact_id=make_contact(runtime, admin, name="Zoë Vip", tags=["vip", "b2b"])
    )
    mine = open_conversation(client, runtime, admin, assigned_to=admin.user_id)
    theirs = open_conversation(
        client, runtime, admin, assigned_to=agent.user_id, contact_id=make_contact(runtime, admin, phone="+4930123456")
    )
    unread = open_conversation(client, runtime, admin, status="pending")
    set_conversation(runtime, admin, unread["id"], unread_count=2)
    send(client, admin, mine["id"], body="Your REFUND_100% is on its way")
    archived = open_conversation(client, runtime, admin)
    client.post(f"{CONVERSATIONS}/{archived['id']}/archive", headers=admin.headers)

    def listed(**params: Any) -> set[int]:
        return set(ids(client.get(f"{CONVERSATIONS}/", params=params, headers=admin.headers)))

    everything = {vip["id"], mine["id"], theirs["id"], unread["id"]}
    assert listed() == everything
    assert listed(status="archived") == {archived["id"]}
    assert listed(status="pending") == {unread["id"]}
    assert listed(assigned_to="me") == {mine["id"]}
    assert listed(assigned_to=str(agent.user_id)) == {theirs["id"]}
    assert listed(assigned_to="none") == {vip["id"], unread["id"]}
    assert listed(unread="true") == {unread["id"]}
    assert listed(unread="false") == everything - {unread["id"]}
    assert listed(tag="vip") == {vip["id"]}
    assert listed(tag="vi") == set()
    assert listed(q="refund_100%") == {mine["id"]}
    assert listed(q="100%%") == set()
    assert listed(q="zoë") == {vip["id"]}
    assert listed(q="+49301") == {theirs["id"]}
    assert listed(q="refund", assigned_to="me", unread="false") == {mine["id"]}

    for params, field in [({"status": "gone"}, "status"), ({"assigned_to": "x"}, "assigned_to"), ({"q": ""}, "q")]:
        response = client.get(f"{CONVERSATIONS}/", params=params, headers=admin.headers)
        assert (response.status_code, error_field(response)) == (422, field)
    key = factory.api_key(admin)
    response = client.get(f"{CONVERSATIONS}/", params={"assigned_to": "me"}, headers=key.headers)
    assert (response.status_code, error_field(response)) == (422, "assigned_to")


def test_status_transitions_and_archive_round_trip(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    url = f"{CONVERSATIONS}/{conversation['id']}"

    pending = client.put(f"{url}/status", json={"status": "pending"}, headers=admin.headers)
    assert pending.status_code == 200
    assert pending.json()["status"] == "pending"
    refused = client.put(f"{url}/status", json={"status": "archived"}, headers=admin.headers)
    assert (refused.status_code, error_field(refused)) == (422, "status")
    assert error_field(client.put(url, json={"status": "archived"}, headers=admin.headers)) == "status"

    archived = client.post(f"{url}/archive", headers=admin.headers).json()
    assert archived["status"] == "archived"
    assert archived["archived_at"] is not None
    assert client.post(f"{url}/archive", headers=admin.headers).json() == archived
    assert conversation["id"] not in ids(client.get(f"{CONVERSATIONS}/", headers=admin.headers))
    blocked = client.put(f"{url}/status", json={"status": "open"}, headers=admin.headers)
    assert blocked.status_code == 409
    assert client.post(f"{url}/messages", json={"body": "hi"}, headers=admin.headers).status_code == 409

    restored = client.post(f"{url}/unarchive", headers=admin.headers).json()
    assert (restored["status"], restored["archived_at"]) == ("pending", None)
    assert client.post(f"{url}/unarchive", headers=admin.headers).json()["status"] == "pending"
    closed = client.put(f"{url}/status", json={"status": "closed"}, headers=admin.headers).json()
    client.post(f"{url}/archive", headers=admin.headers)
    assert client.post(f"{url}/unarchive", headers=admin.headers).json()["status"] == closed["status"]


def test_bulk_delete_is_bounded_and_counts_only_found_ids(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = [open_conversation(client, factory.runtime, admin)["id"] for _ in range(3)]
    send(client, admin, created[0], body="goes with it")
    response = client.post(
        f"{CONVERSATIONS}/bulk-delete",
        json={"ids": [created[0], created[1], created[1], 999_999]},
        headers=admin.headers,
    )
    assert response.json() == {"deleted": 2}
    assert ids(client.get(f"{CONVERSATIONS}/", headers=admin.headers)) == [created[2]]

    for bad in ([], list(range(1, 502)), [0], ["x"]):
        refused = client.post(f"{CONVERSATIONS}/bulk-delete", json={"ids": bad}, headers=admin.headers)
        assert refused.status_code == 422, refused.text
        assert error_field(refused).startswith("ids")
    five_hundred = [created[2], *range(10**9, 10**9 + 499)]
    at_limit = client.post(f"{CONVERSATIONS}/bulk-delete", json={"ids": five_hundred}, headers=admin.headers)
    assert at_limit.json() == {"deleted": 1}


def test_active_lists_recent_open_and_pending_conversations(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    now = dt.datetime.now(dt.UTC)
    recent = open_conversation(client, factory.runtime, admin)
    waiting = open_conversation(client, factory.runtime, admin, status="pending")
    older = open_conversation(client, factory.runtime, admin)
    closed = open_conversation(client, factory.runtime, admin, status="closed")
    set_conversation(factory.runtime, admin, recent["id"], last_message_at=now - dt.timedelta(minutes=5))
    set_conversation(factory.runtime, admin, waiting["id"], last_message_at=now - dt.timedelta(hours=2))
    set_conversation(factory.runtime, admin, older["id"], last_message_at=now - dt.timedelta(hours=30))

    active = f"{CONVERSATIONS}/active"
    assert ids(client.get(active, headers=admin.headers)) == [recent["id"], waiting["id"]]
    assert ids(client.get(active, params={"hours": 48}, headers=admin.headers)) == [
        recent["id"],
        waiting["id"],
        older["id"],
    ]
    assert closed["id"] not in ids(client.get(active, params={"hours": 720}, headers=admin.headers))
    page = client.get(active, params={"limit": 1}, headers=admin.headers).json()
    assert page["next_cursor"] is not None
    assert client.get(active, params={"hours": 0}, headers=admin.headers).status_code == 422
