"""The rule engine on the real database: every operator, exact counts, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenline.core.db import utcnow
from tests.contacts.helpers import BASE_TIME, seed_contacts, us_phone
from tests.factories import Actor, Factory

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def admin(client: TestClient, factory: Factory) -> Actor:
    """Five contacts covering every field the rules can test; c4 is opted out."""
    actor = factory.tenant()
    assert actor.tenant_id is not None
    rows: list[dict[str, Any]] = [
        {
            "phone": us_phone(0),
            "name": "Ana Lima",
            "email": "ana@shop.test",
            "tags": ["vip", "newsletter"],
            "status": "active",
            "priority": "high",
            "source": "web",
            "country": "US",
            "language": "en",
            "created_at": BASE_TIME,
            "last_contacted_at": BASE_TIME + dt.timedelta(days=10),
            "custom_data": {"orders": 5, "ltv": 99.5, "plan": "gold", "vip_since": "2023-05-01", "active": True},
        },
        {
            "phone": "+4915123456789",
            "name": "Bob",
            "tags": ["vip"],
            "status": "blocked",
            "priority": "low",
            "source": "import",
            "country": "DE",
            "language": "de",
            "created_at": BASE_TIME + MINUTE,
            "custom_data": {"orders": 1, "plan": "silver", "active": False},
        },
        {
            "phone": "+5511912345678",
            "email": "bob@mail.test",
            "tags": ["newsletter", "Sale"],
            "status": "inactive",
            "priority": "medium",
            "country": "BR",
            "language": "pt",
            "created_at": utcnow() - dt.timedelta(days=1),
            "custom_data": {"orders": "many", "ltv": 10},
        },
        {
            "phone": us_phone(3),
            "name": "Carla Anders",
            "email": "carla@shop.test",
            "status": "active",
            "priority": "urgent",
            "source": "web",
            "country": "US",
            "language": "en",
            "created_at": BASE_TIME + 3 * MINUTE,
        },
        {
            "phone": us_phone(4),
            "tags": ["vip"],
            "status": "active",
            "country": "US",
            "language": "en",
            "created_at": BASE_TIME + 4 * MINUTE,
            "custom_data": {"orders": 10},
        },
    ]
    seed_contacts(factory.runtime, actor.tenant_id, rows)
    response = client.post(
        "/api/v1/unsubscribers/", json={"phone": us_phone(4), "reason": "STOP"}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return actor


def leaf(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


CASES: list[tuple[dict[str, Any], int]] = [
    # tags: exact (case-sensitive) membership
    (leaf("tags", "has", "vip"), 3),
    (leaf("tags", "has", "sale"), 0),
    (leaf("tags", "has_all", ["vip", "newsletter"]), 1),
    (leaf("tags", "has_any", ["newsletter", "Sale"]), 2),
    (leaf("tags", "has_none", ["vip"]), 2),
    # choice fields; neq / not_in include contacts where the field is empty
    (leaf("status", "eq", "active"), 2),
    (leaf("status", "neq", "active"), 3),
    (leaf("status", "in", ["blocked", "inactive"]), 2),
    (leaf("status", "not_in", ["active"]), 3),
    (leaf("priority", "eq", "high"), 1),
    (leaf("priority", "in", ["low", "urgent"]), 2),
    (leaf("priority", "neq", "medium"), 3),
    (leaf("source", "eq", "web"), 2),
    (leaf("source", "neq", "web"), 3),
    (leaf("source", "in", ["import"]), 1),
    (leaf("source", "not_in", ["web"]), 3),
    (leaf("country", "eq", "us"), 3),
    (leaf("country", "in", ["DE", "BR"]), 2),
    (leaf("country", "not_in", ["US"]), 2),
    (leaf("country", "neq", "DE"), 4),
    (leaf("language", "eq", "de"), 1),
    (leaf("language", "in", ["en"]), 3),
    # text fields, ignoring case; phone by digits
    (leaf("name", "eq", "ana lima"), 1),
    (leaf("name", "contains", "an"), 2),
    (leaf("name", "starts_with", "CAR"), 1),
    ({"not": leaf("name", "contains", "an")}, 3),
    (leaf("email", "contains", "shop.test"), 2),
    (leaf("email", "starts_with", "bob"), 1),
    (leaf("email", "eq", "CARLA@shop.test"), 1),
    (leaf("name", "contains", "%"), 0),
    (leaf("phone", "starts_with", "+1415"), 3),
    (leaf("phone", "starts_with", "49"), 1),
    (leaf("phone", "contains", "555 00"), 3),
    (leaf("phone", "eq", "+1 (415) 555-0000"), 1),
    # timestamps
    (leaf("created_at", "before", "2024-01-01T00:02:00Z"), 2),
    (leaf("created_at", "after", "2024-06-01"), 1),
    (leaf("created_at", "within_days", 7), 1),
    (leaf("created_at", "is_null", True), 0),
    (leaf("created_at", "is_null", False), 5),
    (leaf("last_contacted_at", "is_null", True), 4),
    (leaf("last_contacted_at", "is_null", False), 1),
    (leaf("last_contacted_at", "after", "2024-01-05T00:00:00+00:00"), 1),
    (leaf("last_contacted_at", "before", "2024-01-05"), 0),
    (leaf("last_contacted_at", "within_days", 30), 0),
    # custom data: typed comparisons; a value of another type never matches
    (leaf("custom.orders", "eq", 5), 1),
    (leaf("custom.orders", "eq", 5.0), 1),
    (leaf("custom.orders", "eq", "many"), 1),
    (leaf("custom.orders", "neq", 5), 4),
    (leaf("custom.orders", "gt", 1), 2),
    (leaf("custom.orders", "gte", 1), 3),
    (leaf("custom.orders", "lt", 5), 1),
    (leaf("custom.orders", "lte", 5), 2),
    (leaf("custom.ltv", "gt", 50), 1),
    (leaf("custom.ltv", "lt", 50.5), 1),
    (leaf("custom.plan", "eq", "gold"), 1),
    (leaf("custom.plan", "contains", "IL"), 1),
    (leaf("custom.plan", "gt", "h"), 1),
    (leaf("custom.vip_since", "lt", "2024-01-01"), 1),
    (leaf("custom.active", "eq", True), 1),
    (leaf("custom.active", "eq", False), 1),
    (leaf("custom.active", "neq", True), 4),
    (leaf("custom.orders", "exists", True), 4),
    (leaf("custom.orders", "exists", False), 1),
    (leaf("custom.missing", "gt", 0), 0),
    # consent
    (leaf("opted_out", "eq", True), 1),
    (leaf("opted_out", "eq", False), 4),
    # trees
    ({"all": []}, 5),
    (
        {
            "all": [
                {"any": [leaf("tags", "has", "vip"), leaf("status", "eq", "blocked")]},
                {"not": leaf("opted_out", "eq", True)},
            ]
        },
        2,
    ),
    (
        {
            "any": [
                leaf("country", "eq", "DE"),
                {"all": [leaf("country", "eq", "US"), leaf("priority", "eq", "urgent")]},
            ]
        },
        2,
    ),
]


def test_every_operator_counts_exactly(client: TestClient, admin: Actor) -> None:
    wrong = []
    for rules, expected in CASES:
        response = client.post("/api/v1/segments/count", json={"rules": rules}, headers=admin.headers)
        assert response.status_code == 200, (rules, response.text)
        if response.json()["count"] != expected:
            wrong.append((rules, expected, response.json()["count"]))
    assert wrong == []


def test_saved_segments_resolve_like_live_counts(client: TestClient, admin: Actor) -> None:
    for i, (rules, expected) in enumerate(CASES[:10]):
        created = client.post("/api/v1/segments/", json={"name": f"s{i}", "rules": rules}, headers=admin.headers)
        assert created.status_code == 201, created.text
        count = client.get(f"/api/v1/segments/{created.json()['id']}/count", headers=admin.headers)
        assert count.json() == {"count": expected}, rules


def test_counts_stay_inside_the_tenant(client: TestClient, factory: Factory, admin: Actor) -> None:
    other = factory.tenant()
    response = client.post("/api/v1/segments/count", json={"rules": {"all": []}}, headers=other.headers)
    assert response.json() == {"count": 0}
