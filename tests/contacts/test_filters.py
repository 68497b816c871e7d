"""List filters (query parameters) and the advanced JSON rule filter."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.contacts.helpers import BASE_TIME, seed_contacts, us_phone
from tests.factories import Actor, Factory


@pytest.fixture
def admin(client: TestClient, factory: Factory) -> Actor:
    actor = factory.tenant()
    assert actor.tenant_id is not None
    contacted = BASE_TIME + dt.timedelta(days=10)
    seed_contacts(
        factory.runtime,
        actor.tenant_id,
        [
            {"phone": us_phone(0), "name": "Ana", "tags": ["vip", "newsletter"], "status": "active"},
            {"phone": us_phone(1), "name": "Bob", "tags": ["vip"], "last_contacted_at": contacted},
            {"phone": us_phone(2), "name": "Cid", "tags": ["newsletter"], "status": "blocked"},
            {"phone": us_phone(3), "name": "Dee", "tags": [], "email": "dee@shop.test"},
        ],
    )
    return actor


def _phones(client: TestClient, actor: Actor, params: dict[str, Any] | list[tuple[str, Any]]) -> set[str]:
    response = client.get("/api/v1/contacts/", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return {c["phone"] for c in response.json()["items"]}


def test_list_filters(client: TestClient, admin: Actor) -> None:
    p = [us_phone(i) for i in range(4)]
    assert _phones(client, admin, {"status": "blocked"}) == {p[2]}
    assert _phones(client, admin, [("tag", "vip"), ("tag", "newsletter")]) == {p[0]}
    assert _phones(client, admin, [("tag", "vip"), ("tag", "newsletter"), ("tags_mode", "any")]) == {p[0], p[1], p[2]}
    assert _phones(client, admin, [("tag", "vip"), ("tags_mode", "none")]) == {p[2], p[3]}
    # Contact i was created at BASE_TIME + i minutes.
    after = (BASE_TIME + dt.timedelta(seconds=90)).isoformat()
    assert _phones(client, admin, {"created_after": after}) == {p[2], p[3]}
    assert _phones(client, admin, {"created_before": after}) == {p[0], p[1]}
    assert _phones(client, admin, {"last_contacted_after": "2024-01-05"}) == {p[1]}
    assert _phones(client, admin, {"last_contacted_before": "2024-02-01T00:00:00Z"}) == {p[1]}
    assert _phones(client, admin, {"q": "shop.test"}) == {p[3]}
    assert _phones(client, admin, {"q": "5550001", "tag": "vip"}) == {p[1]}
    assert _phones(client, admin, {"opted_out": "false", "status": "active"}) == {p[0], p[1], p[3]}


def test_list_filter_validation(client: TestClient, admin: Actor) -> None:
    for params, field in (
        ({"status": "gone"}, "query.status"),
        ({"tags_mode": "some"}, "query.tags_mode"),
        ({"created_after": "yesterday"}, "query.created_after"),
        ({"segment_id": "0"}, "query.segment_id"),
    ):
        response = client.get("/api/v1/contacts/", params=params, headers=admin.headers)
        assert response.status_code == 422, params
        assert response.json()["error"]["details"][0]["field"] == field
    assert client.get("/api/v1/contacts/?segment_id=424242", headers=admin.headers).status_code == 404


def _filter(client: TestClient, actor: Actor, rules: Any, **params: Any) -> Any:
    return client.get(
        "/api/v1/contacts/filter",
        params={"rules": rules if isinstance(rules, str) else json.dumps(rules), **params},
        headers=actor.headers,
    )


def test_filter_endpoint_uses_the_rule_engine(client: TestClient, admin: Actor) -> None:
    p = [us_phone(i) for i in range(4)]
    rules = {
        "any": [{"field": "tags", "op": "has", "value": "vip"}, {"field": "status", "op": "eq", "value": "blocked"}]
    }
    response = _filter(client, admin, rules)
    assert response.status_code == 200, response.text
    assert [c["phone"] for c in response.json()["items"]] == [p[2], p[1], p[0]]

    first = _filter(client, admin, rules, limit=2).json()
    second = _filter(client, admin, rules, limit=2, cursor=first["next_cursor"]).json()
    assert [c["phone"] for c in first["items"] + second["items"]] == [p[2], p[1], p[0]]
    assert second["next_cursor"] is None

    negated = _filter(client, admin, {"not": rules}).json()
    assert [c["phone"] for c in negated["items"]] == [p[3]]


def test_filter_errors_name_the_bad_node(client: TestClient, admin: Actor) -> None:
    cases = [
        ("{not json", "rules"),
        (
            {"all": [{"field": "tags", "op": "has", "value": "vip"}, {"field": "colour", "op": "eq", "value": 1}]},
            "rules.all.1.field",
        ),
        ({"any": [{"not": {"field": "status", "op": "eq", "value": "gone"}}]}, "rules.any.0.not.value"),
        ({"all": [{"field": "tags", "op": "has_any", "value": ["a", 5]}]}, "rules.all.0.value.1"),
        ({"all": [{"field": "name", "op": "gt", "value": "a"}]}, "rules.all.0.op"),
        ({"all": [{"field": "custom.9x", "op": "eq", "value": 1}]}, "rules.all.0.field"),
        ({"any": []}, "rules.any"),
        ({"all": [], "any": []}, "rules"),
        ([1, 2], "rules"),
    ]
    for rules, field in cases:
        response = _filter(client, admin, rules)
        assert response.status_code == 422, (rules, response.text)
        assert response.json()["error"]["details"][0]["field"] == field, rules
