"""Bulk assign and bulk status: counts, history rows, the sales scope, and other tenants' ids."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.core.permissions import TenantRole
from greenline.models import LeadStatusChange
from tests.factories import Actor, Factory
from tests.leads.helpers import error_field, make_lead

LEADS = "/api/v1/leads"


def _history_count(factory: Factory, actor: Actor) -> int:
    assert actor.tenant_id is not None
    with factory.runtime.task_session(actor.tenant_id) as session:
        return session.scalar(select(func.count()).select_from(LeadStatusChange)) or 0


def test_bulk_assign(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    leads = [make_lead(client, factory.runtime, admin) for _ in range(3)]
    lead_ids = [lead["id"] for lead in leads]
    url = "/api/v1/leads/bulk/assign"

    done = client.post(
        url, json={"ids": [*lead_ids, lead_ids[0], 999_999], "assigned_to": seller.user_id}, headers=admin.headers
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"updated": 3}
    listed = client.get(f"{LEADS}/?assigned_to={seller.user_id}", headers=admin.headers).json()["items"]
    assert sorted(item["id"] for item in listed) == sorted(lead_ids)
    # Leads already assigned to that user do not count as updated.
    assert client.post(url, json={"ids": lead_ids, "assigned_to": seller.user_id}, headers=admin.headers).json() == {
        "updated": 0
    }
    cleared = client.post(url, json={"ids": lead_ids[:2], "assigned_to": None}, headers=admin.headers)
    assert cleared.json() == {"updated": 2}
    assert client.get(f"{LEADS}/{lead_ids[0]}", headers=admin.headers).json()["assigned_to"] is None

    for body, field in [
        ({"ids": lead_ids, "assigned_to": 999_999}, "assigned_to"),
        ({"ids": lead_ids}, "assigned_to"),
        ({"ids": [], "assigned_to": None}, "ids"),
        ({"ids": list(range(1, 502)), "assigned_to": None}, "ids"),
        ({"ids": [0], "assigned_to": None}, "ids.0"),
    ]:
        response = client.post(url, json=body, headers=admin.headers)
        assert (response.status_code, error_field(response)) == (422, field), body


def test_bulk_status_is_recorded(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    leads = [make_lead(client, factory.runtime, admin) for _ in range(3)]
    already = make_lead(client, factory.runtime, admin, status="qualified")
    lead_ids = [lead["id"] for lead in leads]
    url = "/api/v1/leads/bulk/update-status"
    before = _history_count(factory, admin)

    done = client.post(
        url,
        json={"ids": [*lead_ids, already["id"], 999_999], "status": "qualified", "note": "demo booked"},
        headers=admin.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"updated": 3}
    assert _history_count(factory, admin) == before + 3
    history = client.get(f"{LEADS}/{lead_ids[1]}/history", headers=admin.headers).json()["items"]
    assert [(h["from_status"], h["to_status"], h["note"], h["changed_by"]) for h in history] == [
        (None, "new", None, admin.user_id),
        ("new", "qualified", "demo booked", admin.user_id),
    ]
    lead = client.get(f"{LEADS}/{lead_ids[1]}", headers=admin.headers).json()
    assert lead["status"] == "qualified"
    assert lead["status_changed_at"] == history[1]["created_at"]

    no_reason = client.post(url, json={"ids": lead_ids, "status": "lost"}, headers=admin.headers)
    assert (no_reason.status_code, error_field(no_reason)) == (422, "lost_reason")
    unknown = client.post(url, json={"ids": lead_ids, "status": "dead"}, headers=admin.headers)
    assert (unknown.status_code, error_field(unknown)) == (422, "status")
    lost = client.post(
        url, json={"ids": lead_ids[:2], "status": "lost", "lost_reason": "budget"}, headers=admin.headers
    )
    assert lost.json() == {"updated": 2}
    closed = client.get(f"{LEADS}/{lead_ids[0]}", headers=admin.headers).json()
    assert (closed["status"], closed["lost_reason"]) == ("lost", "budget")
    assert closed["lost_at"] is not None
    won = client.post(url, json={"ids": lead_ids, "status": "won"}, headers=admin.headers).json()
    assert won == {"updated": 3}
    reopened = client.get(f"{LEADS}/{lead_ids[0]}", headers=admin.headers).json()
    assert (reopened["lost_at"], reopened["lost_reason"]) == (None, None)
    assert reopened["won_at"] is not None
    assert _history_count(factory, admin) == before + 3 + 2 + 3


def test_sales_bulk_touches_only_their_leads(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    other = factory.member(admin, TenantRole.sales)
    mine = make_lead(client, factory.runtime, admin, assigned_to=seller.user_id)
    theirs = make_lead(client, factory.runtime, admin, assigned_to=other.user_id)
    free = make_lead(client, factory.runtime, admin)
    everything = [mine["id"], theirs["id"], free["id"]]

    moved = client.post(
        "/api/v1/leads/bulk/update-status", json={"ids": everything, "status": "contacted"}, headers=seller.headers
    )
    assert moved.json() == {"updated": 1}
    statuses = {i["id"]: i["status"] for i in client.get(f"{LEADS}/", headers=admin.headers).json()["items"]}
    assert statuses == {mine["id"]: "contacted", theirs["id"]: "new", free["id"]: "new"}

    taken = client.post(
        "/api/v1/leads/bulk/assign", json={"ids": everything, "assigned_to": seller.user_id}, headers=seller.headers
    )
    assert taken.json() == {"updated": 0}
    given = client.post(
        "/api/v1/leads/bulk/assign", json={"ids": everything, "assigned_to": other.user_id}, headers=seller.headers
    )
    assert (given.status_code, error_field(given)) == (403, "assigned_to")
    assert client.get(f"{LEADS}/{free['id']}", headers=admin.headers).json()["assigned_to"] is None


def test_other_tenant_bulk_changes_nothing(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    b = factory.tenant()
    a_leads = [make_lead(client, factory.runtime, a, assigned_to=a.user_id) for _ in range(2)]
    a_ids = [lead["id"] for lead in a_leads]
    before = [client.get(f"{LEADS}/{i}", headers=a.headers).json() for i in a_ids]
    history_before = _history_count(factory, a)

    for outsider in (b, factory.api_key(b)):
        assigned = client.post(
            "/api/v1/leads/bulk/assign", json={"ids": a_ids, "assigned_to": None}, headers=outsider.headers
        )
        assert assigned.json() == {"updated": 0}
        assigned = client.post(
            "/api/v1/leads/bulk/assign", json={"ids": a_ids, "assigned_to": b.user_id}, headers=outsider.headers
        )
        assert assigned.json() == {"updated": 0}
        moved = client.post(
            "/api/v1/leads/bulk/update-status",
            json={"ids": a_ids, "status": "lost", "lost_reason": "sabotage"},
            headers=outsider.headers,
        )
        assert moved.json() == {"updated": 0}

    assert [client.get(f"{LEADS}/{i}", headers=a.headers).json() for i in a_ids] == before
    assert _history_count(factory, a) == history_before
    assert _history_count(factory, b) == 0
