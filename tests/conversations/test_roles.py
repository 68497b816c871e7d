"""Roles: viewers only read; sales users reach and assign only their own conversations."""

from __future__ import annotations

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.conversations.helpers import CONVERSATIONS, ids, make_contact, open_conversation
from tests.factories import Factory


def test_viewer_reads_but_cannot_write(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    viewer = factory.member(admin, TenantRole.viewer)
    conversation = open_conversation(client, factory.runtime, admin)
    url = f"{CONVERSATIONS}/{conversation['id']}"
    assert client.get(url, headers=viewer.headers).status_code == 200
    assert client.put(url, json={"subject": "x"}, headers=viewer.headers).status_code == 403
    assert client.post(f"{url}/messages", json={"body": "x"}, headers=viewer.headers).status_code == 403
    assert client.delete(url, headers=viewer.headers).status_code == 403
    assert client.get(f"{CONVERSATIONS}/", headers={}).status_code == 401


def test_sales_user_reaches_only_assigned_conversations(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    colleague = factory.member(admin, TenantRole.sales)
    assigned = open_conversation(client, factory.runtime, admin, assigned_to=seller.user_id)
    other = open_conversation(client, factory.runtime, admin, assigned_to=colleague.user_id)
    pool = open_conversation(client, factory.runtime, admin)

    assert ids(client.get(f"{CONVERSATIONS}/", headers=seller.headers)) == [assigned["id"]]
    for conversation in (other, pool):
        url = f"{CONVERSATIONS}/{conversation['id']}"
        assert client.get(url, headers=seller.headers).status_code == 404
        assert client.put(url, json={"subject": "x"}, headers=seller.headers).status_code == 404
        assert client.post(f"{url}/messages", json={"body": "x"}, headers=seller.headers).status_code == 404
        assert client.post(f"{url}/archive", headers=seller.headers).status_code == 404

    url = f"{CONVERSATIONS}/{assigned['id']}"
    assert client.put(url, json={"subject": "Mine"}, headers=seller.headers).status_code == 200
    handover = client.put(url, json={"assigned_to": colleague.user_id}, headers=seller.headers)
    assert handover.status_code == 403
    created = open_conversation(client, factory.runtime, seller, assigned_to=None)
    assert created["assigned_to"] == seller.user_id
    taken = client.post(f"{CONVERSATIONS}/", json={"contact_id": other["contact_id"]}, headers=seller.headers)
    assert taken.status_code == 409
    assert taken.json()["error"]["details"][0]["conversation_id"] is None
    refused = client.post(
        f"{CONVERSATIONS}/",
        json={"contact_id": make_contact(factory.runtime, admin), "assigned_to": colleague.user_id},
        headers=seller.headers,
    )
    assert refused.status_code == 403

    deleted = client.post(
        f"{CONVERSATIONS}/bulk-delete", json={"ids": [other["id"], pool["id"], created["id"]]}, headers=seller.headers
    )
    assert deleted.json() == {"deleted": 1}
    assert client.get(f"{CONVERSATIONS}/{other['id']}", headers=admin.headers).status_code == 200
