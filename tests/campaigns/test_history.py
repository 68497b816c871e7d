"""GET /contacts/{id}/campaigns: a contact's enrolments with the messages each campaign sent them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from greenline.core.runtime import Runtime
from tests.campaigns.helpers import Engine, add_contacts, sender
from tests.factories import Factory

API = "/api/v1/campaigns"


def _campaign(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/", json={"message": "Hi", "audience": {"all": True}, **body}, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_history_lists_enrolments_newest_first_with_their_messages(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    a = factory.tenant()
    assert a.tenant_id is not None
    engine = Engine(runtime, a.tenant_id)
    number = sender(client, a)
    contact_id = add_contacts(runtime, a.tenant_id, 3)[0]
    broadcast = _campaign(client, a.headers, name="Spring sale", sender_number_ids=[number["id"]])
    drip = _campaign(
        client, a.headers, name="Welcome drip", kind="drip", sender_number_ids=[number["id"]], message=None,
        steps=[{"body": "Welcome"}, {"body": "Still there?", "delay_value": 1, "delay_unit": "days"}],
    )  # fmt: skip
    for campaign in (broadcast, drip):
        assert client.post(f"{API}/{campaign['id']}/start", headers=a.headers).status_code == 200

    def first_steps_delivered() -> bool:
        items = client.get(f"/api/v1/contacts/{contact_id}/campaigns", headers=a.headers).json()["items"]
        return all(i["messages"] and i["messages"][0]["delivered_at"] for i in items)

    engine.run(first_steps_delivered)
    response = client.get(f"/api/v1/contacts/{contact_id}/campaigns", headers=a.headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    newest, oldest = page["items"]
    assert (newest["campaign_id"], newest["name"], newest["kind"]) == (drip["id"], "Welcome drip", "drip")
    assert newest["status"] == "running"
    assert newest["enrollment_status"] == "active"
    assert newest["current_step"] == 1
    assert newest["next_step_at"] is not None  # the second step waits a day
    assert [m["step_position"] for m in newest["messages"]] == [1]
    message = newest["messages"][0]
    assert message["status"] == "delivered"
    assert message["sent_at"] is not None
    assert message["delivered_at"] is not None
    assert message["read_at"] is None
    assert message["error_code"] is None
    assert (oldest["campaign_id"], oldest["kind"], oldest["status"]) == (broadcast["id"], "broadcast", "completed")
    assert oldest["enrollment_status"] == "completed"
    assert len(oldest["messages"]) == 1

    # Paged by cursor: one enrolment per page, the same two in the same order.
    first = client.get(f"/api/v1/contacts/{contact_id}/campaigns", params={"limit": 1}, headers=a.headers).json()
    assert [i["campaign_id"] for i in first["items"]] == [drip["id"]]
    second = client.get(
        f"/api/v1/contacts/{contact_id}/campaigns",
        params={"limit": 1, "cursor": first["next_cursor"]},
        headers=a.headers,
    ).json()
    assert [i["campaign_id"] for i in second["items"]] == [broadcast["id"]]
    assert second["next_cursor"] is None


def test_history_of_a_contact_never_enrolled_is_empty(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    a = factory.tenant()
    assert a.tenant_id is not None
    contact_id = add_contacts(runtime, a.tenant_id, 1)[0]
    page = client.get(f"/api/v1/contacts/{contact_id}/campaigns", headers=a.headers).json()
    assert page == {"items": [], "next_cursor": None}


def test_history_is_404_for_another_tenants_contact_and_checks_its_input(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    a = factory.tenant()
    b = factory.tenant()
    assert a.tenant_id is not None
    contact_id = add_contacts(runtime, a.tenant_id, 1)[0]
    url = f"/api/v1/contacts/{contact_id}/campaigns"
    missing = client.get(url, headers=b.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"]
    bad = client.get(url, params={"cursor": "nonsense!"}, headers=a.headers)
    assert bad.status_code == 422
    assert "cursor" in bad.text
    assert client.get(url, params={"limit": 0}, headers=a.headers).status_code == 422
    assert client.get("/api/v1/contacts/abc/campaigns", headers=a.headers).status_code == 422


def test_history_needs_campaigns_read(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    a = factory.tenant()
    assert a.tenant_id is not None
    contact_id = add_contacts(runtime, a.tenant_id, 1)[0]
    sales = factory.member(a, TenantRole.sales)
    assert client.get(f"/api/v1/contacts/{contact_id}/campaigns", headers=sales.headers).status_code == 403
    viewer = factory.member(a, TenantRole.viewer)
    assert client.get(f"/api/v1/contacts/{contact_id}/campaigns", headers=viewer.headers).status_code == 200
