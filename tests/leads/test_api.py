"""Lead CRUD, validation, pipeline moves with history, and assignment."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.factories import Factory
from tests.leads.helpers import error_field, make_contact, make_lead

LEADS = "/api/v1/leads"


def test_create_read_update_delete(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    contact_id = make_contact(factory.runtime, admin, name="Ana Lima", email="ana@shop.test", phone="+14155550101")
    lead = make_lead(
        client,
        factory.runtime,
        admin,
        contact_id=contact_id,
        title="  Solar panels  ",
        priority="high",
        score=72,
        assigned_to=seller.user_id,
        custom_data={"roof": "flat"},
        value="1200.5",
        currency="eur",
        source="whatsapp",
        notes="Wants a quote",
        next_follow_up_at="2030-01-02T10:00:00+02:00",
    )
    assert lead["title"] == "Solar panels"
    assert lead["status"] == "new"
    assert lead["value"] == "1200.50"
    assert lead["currency"] == "EUR"
    assert lead["assigned_to"] == seller.user_id
    assert lead["next_follow_up_at"].startswith("2030-01-02T08:00:00")
    assert lead["contact"] == {"id": contact_id, "phone": "+14155550101", "name": "Ana Lima", "email": "ana@shop.test"}

    fetched = client.get(f"{LEADS}/{lead['id']}", headers=admin.headers)
    assert fetched.status_code == 200
    assert fetched.json() == lead

    updated = client.put(
        f"{LEADS}/{lead['id']}", json={"score": 90, "value": None, "notes": None}, headers=admin.headers
    ).json()
    assert (updated["score"], updated["value"], updated["notes"]) == (90, None, None)
    assert (updated["title"], updated["priority"], updated["currency"]) == ("Solar panels", "high", "EUR")

    assert client.delete(f"{LEADS}/{lead['id']}", headers=admin.headers).status_code == 204
    assert client.get(f"{LEADS}/{lead['id']}", headers=admin.headers).status_code == 404
    assert client.delete(f"{LEADS}/{lead['id']}", headers=admin.headers).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"score": 101}, "score"),
        ({"score": -1}, "score"),
        ({"value": "-0.01"}, "value"),
        ({"value": "1.234"}, "value"),
        ({"currency": "US"}, "currency"),
        ({"currency": "U$D"}, "currency"),
        ({"status": "closed"}, "status"),
        ({"priority": "asap"}, "priority"),
        ({"status": "lost"}, "lost_reason"),
        ({"status": "won", "lost_reason": "price"}, "lost_reason"),
        ({"next_follow_up_at": "2030-01-01T10:00:00"}, "next_follow_up_at"),
        ({"next_follow_up_at": "0001-01-01T00:00:00+05:00"}, "next_follow_up_at"),
        ({"title": "x" * 201}, "title"),
        ({"custom_data": {"blob": "x" * 20_000}}, "custom_data"),
        ({"assigned_to": 999_999}, "assigned_to"),
        ({"contact_id": 999_999}, "contact_id"),
        ({"contact_id": None}, "contact_id"),
    ],
)
def test_create_validation_names_the_field(
    client: TestClient, factory: Factory, change: dict[str, Any], field: str
) -> None:
    admin = factory.tenant()
    body = {"contact_id": make_contact(factory.runtime, admin), **change}
    response = client.post(f"{LEADS}/", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert error_field(response) == field


def test_references_must_belong_to_the_tenant(client: TestClient, factory: Factory) -> None:
    a, b = factory.tenant(), factory.tenant()
    b_contact = make_contact(factory.runtime, b)
    response = client.post(f"{LEADS}/", json={"contact_id": b_contact}, headers=a.headers)
    assert (response.status_code, error_field(response)) == (422, "contact_id")
    own = make_contact(factory.runtime, a)
    response = client.post(f"{LEADS}/", json={"contact_id": own, "assigned_to": b.user_id}, headers=a.headers)
    assert (response.status_code, error_field(response)) == (422, "assigned_to")


def test_update_refuses_nulls_and_bad_values(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    lead = make_lead(client, factory.runtime, admin)
    url = f"{LEADS}/{lead['id']}"
    for body, field in [
        ({"status": None}, "status"),
        ({"score": None}, "score"),
        ({"currency": "euro"}, "currency"),
        ({"value": -5}, "value"),
        ({"status": "lost"}, "lost_reason"),
        ({"lost_reason": "too pricey"}, "lost_reason"),
    ]:
        response = client.put(url, json=body, headers=admin.headers)
        assert response.status_code == 422, (body, response.text)
        assert error_field(response) == field
    assert client.get(url, headers=admin.headers).json() == lead


def test_status_moves_are_recorded(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    lead = make_lead(client, factory.runtime, admin)
    url = f"{LEADS}/{lead['id']}"

    moved = client.put(f"{url}/status", json={"status": "contacted", "note": "called"}, headers=admin.headers)
    assert moved.status_code == 200
    assert moved.json()["status"] == "contacted"
    again = client.put(f"{url}/status", json={"status": "contacted"}, headers=admin.headers)
    assert again.json()["status_changed_at"] == moved.json()["status_changed_at"]

    won = client.put(f"{url}/status", json={"status": "won"}, headers=admin.headers).json()
    assert won["won_at"] is not None
    assert won["lost_at"] is None

    no_reason = client.put(f"{url}/status", json={"status": "lost"}, headers=admin.headers)
    assert (no_reason.status_code, error_field(no_reason)) == (422, "lost_reason")
    unknown = client.put(f"{url}/status", json={"status": "archived"}, headers=admin.headers)
    assert (unknown.status_code, error_field(unknown)) == (422, "status")
    lost = client.put(f"{url}/status", json={"status": "lost", "lost_reason": "budget"}, headers=admin.headers).json()
    assert (lost["won_at"], lost["lost_reason"]) == (None, "budget")
    assert lost["lost_at"] is not None

    # A status change through PUT /{id} is recorded the same way; reopening clears the lost stamps.
    reopened = client.put(url, json={"status": "qualified", "title": "Back"}, headers=admin.headers).json()
    assert (reopened["status"], reopened["lost_at"], reopened["lost_reason"]) == ("qualified", None, None)

    history = client.get(f"{url}/history", headers=admin.headers)
    assert history.status_code == 200
    moves = [(h["from_status"], h["to_status"], h["note"]) for h in history.json()["items"]]
    assert moves == [
        (None, "new", None),
        ("new", "contacted", "called"),
        ("contacted", "won", None),
        ("won", "lost", None),
        ("lost", "qualified", None),
    ]
    assert {h["changed_by"] for h in history.json()["items"]} == {admin.user_id}
    first = client.get(f"{url}/history?limit=2", headers=admin.headers).json()
    rest = client.get(f"{url}/history?cursor={first['next_cursor']}", headers=admin.headers).json()
    assert [h["to_status"] for h in first["items"] + rest["items"]] == ["new", "contacted", "won", "lost", "qualified"]


def test_created_in_a_closed_stage(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    lost = make_lead(client, factory.runtime, admin, status="lost", lost_reason="no budget")
    assert lost["lost_at"] is not None
    history = client.get(f"{LEADS}/{lost['id']}/history", headers=admin.headers).json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [(None, "lost")]


def test_assign_and_unassign(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    outsider = factory.tenant()
    lead = make_lead(client, factory.runtime, admin)
    url = f"{LEADS}/{lead['id']}/assign"

    assigned = client.put(url, json={"assigned_to": seller.user_id}, headers=admin.headers)
    assert assigned.status_code == 200
    assert assigned.json()["assigned_to"] == seller.user_id
    for user_id in (outsider.user_id, 999_999):
        refused = client.put(url, json={"assigned_to": user_id}, headers=admin.headers)
        assert (refused.status_code, error_field(refused)) == (422, "assigned_to")
    missing = client.put(url, json={}, headers=admin.headers)
    assert (missing.status_code, error_field(missing)) == (422, "assigned_to")
    cleared = client.put(url, json={"assigned_to": None}, headers=admin.headers)
    assert cleared.json()["assigned_to"] is None
    assert client.put(f"{LEADS}/999999/assign", json={"assigned_to": None}, headers=admin.headers).status_code == 404


def test_permissions_by_role(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    viewer = factory.member(admin, TenantRole.viewer)
    marketer = factory.member(admin, TenantRole.marketer)
    lead = make_lead(client, factory.runtime, admin)
    url = f"{LEADS}/{lead['id']}"
    assert client.get(url, headers=viewer.headers).status_code == 200
    assert client.put(url, json={"score": 5}, headers=viewer.headers).status_code == 403
    assert client.delete(url, headers=viewer.headers).status_code == 403
    contact_id = make_contact(factory.runtime, admin)
    assert client.post(f"{LEADS}/", json={"contact_id": contact_id}, headers=viewer.headers).status_code == 403
    assert client.put(url, json={"score": 5}, headers=marketer.headers).status_code == 200
    assert client.get(f"{LEADS}/").status_code == 401
    key = factory.api_key(admin, scopes=["leads:read"])
    assert client.get(url, headers=key.headers).status_code == 200
    assert client.put(f"{url}/status", json={"status": "won"}, headers=key.headers).status_code == 403
    me = client.get(f"{LEADS}/?assigned_to=me", headers=key.headers)
    assert (me.status_code, error_field(me)) == (422, "assigned_to")
