"""Tenant B cannot reach tenant A's conversations through any conversation endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conversations.helpers import CONVERSATIONS, make_contact, open_conversation, send
from tests.factories import Actor, Factory


def _view(client: TestClient, a: Actor, conversation_id: int) -> Any:
    url = f"{CONVERSATIONS}/{conversation_id}"
    return [client.get(u, headers=a.headers).json() for u in (url, f"{url}/messages", f"{url}/notes", f"{url}/history")]


CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("PUT", "", {"subject": "mine now"}),
    ("DELETE", "", None),
    ("POST", "/messages", {"body": "spam"}),
    ("GET", "/messages", None),
    ("GET", "/history", None),
    ("PUT", "/status", {"status": "closed"}),
    ("POST", "/archive", None),
    ("POST", "/unarchive", None),
    ("POST", "/read", None),
    ("POST", "/auto-reply", {"enabled": True, "message": "hijacked"}),
    ("POST", "/notes", {"body": "B was here"}),
    ("GET", "/notes", None),
]


@pytest.mark.parametrize("outsider", ["admin", "api_key"])
def test_other_tenant_gets_404_on_every_conversation_endpoint(
    client: TestClient, factory: Factory, outsider: str
) -> None:
    a = factory.tenant()
    conversation = open_conversation(client, factory.runtime, a)
    send(client, a, conversation["id"], body="A's secret")
    client.post(f"{CONVERSATIONS}/{conversation['id']}/notes", json={"body": "A's note"}, headers=a.headers)
    before = _view(client, a, conversation["id"])
    b_admin = factory.tenant()
    b = b_admin if outsider == "admin" else factory.api_key(b_admin)

    for method, suffix, body in CALLS:
        response = client.request(method, f"{CONVERSATIONS}/{conversation['id']}{suffix}", json=body, headers=b.headers)
        assert response.status_code == 404, (method, suffix, response.text)
    # B cannot open a conversation on A's contact, nor find A's messages.
    created = client.post(f"{CONVERSATIONS}/", json={"contact_id": conversation["contact_id"]}, headers=b.headers)
    assert created.status_code == 422
    for url in (f"{CONVERSATIONS}/search?q=secret", f"{CONVERSATIONS}/active", f"{CONVERSATIONS}/?q=secret"):
        assert client.get(url, headers=b.headers).json()["items"] == []
    assert _view(client, a, conversation["id"]) == before


def test_bulk_delete_by_another_tenant_deletes_nothing(client: TestClient, factory: Factory) -> None:
    a, b = factory.tenant(), factory.tenant()
    theirs = [open_conversation(client, factory.runtime, a)["id"] for _ in range(3)]
    send(client, a, theirs[0], body="keep me")
    own = open_conversation(client, factory.runtime, b, contact_id=make_contact(factory.runtime, b))
    before = [_view(client, a, conversation_id) for conversation_id in theirs]

    response = client.post(f"{CONVERSATIONS}/bulk-delete", json={"ids": [*theirs, own["id"]]}, headers=b.headers)
    assert response.status_code == 200
    assert response.json() == {"deleted": 1}
    assert [_view(client, a, conversation_id) for conversation_id in theirs] == before
    only_a = client.post(f"{CONVERSATIONS}/bulk-delete", json={"ids": theirs}, headers=factory.api_key(b).headers)
    assert only_a.json() == {"deleted": 0}
    assert [_view(client, a, conversation_id) for conversation_id in theirs] == before
