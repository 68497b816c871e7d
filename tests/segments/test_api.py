from __future__ import annotations

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.contacts.helpers import all_pages, seed_contacts, us_phone
from tests.factories import Factory

VIP = {"field": "tags", "op": "has", "value": " vip "}


def test_segment_crud(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = client.post(
        "/api/v1/segments/",
        json={"name": " VIPs ", "description": "Best customers", "rules": {"all": [VIP]}},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["name"] == "VIPs"
    # Stored in normalised form.
    assert segment["rules"] == {"all": [{"field": "tags", "op": "has", "value": "vip"}]}
    assert segment["created_by"] == admin.user_id
    url = f"/api/v1/segments/{segment['id']}"
    assert client.get(url, headers=admin.headers).json() == segment

    renamed = client.put(url, json={"name": "Top", "description": None}, headers=admin.headers)
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["description"]) == ("Top", None)
    assert renamed.json()["rules"] == segment["rules"]
    rules = client.put(url, json={"rules": {"not": VIP}}, headers=admin.headers)
    assert rules.json()["rules"] == {"not": {"field": "tags", "op": "has", "value": "vip"}}

    listed = client.get("/api/v1/segments/", headers=admin.headers).json()
    assert [s["id"] for s in listed["items"]] == [segment["id"]]
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(url, headers=admin.headers).status_code == 404
    assert client.get(f"{url}/count", headers=admin.headers).status_code == 404
    assert client.get(f"{url}/preview", headers=admin.headers).status_code == 404


def test_segment_names_are_unique_per_tenant(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    body = {"name": "VIPs", "rules": VIP}
    first = client.post("/api/v1/segments/", json=body, headers=admin.headers)
    duplicate = client.post("/api/v1/segments/", json=body, headers=admin.headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["details"][0]["field"] == "name"
    second = client.post("/api/v1/segments/", json={**body, "name": "Other"}, headers=admin.headers).json()
    rename = client.put(f"/api/v1/segments/{second['id']}", json={"name": "VIPs"}, headers=admin.headers)
    assert rename.status_code == 409
    # Keeping its own name is not a conflict; another tenant may use the name.
    keep = client.put(f"/api/v1/segments/{first.json()['id']}", json={"name": "VIPs"}, headers=admin.headers)
    assert keep.status_code == 200
    other = factory.tenant()
    assert client.post("/api/v1/segments/", json=body, headers=other.headers).status_code == 201


def test_invalid_rules_are_422_with_the_node_path(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    too_deep: dict[str, object] = VIP
    for _ in range(5):
        too_deep = {"not": too_deep}
    cases = [
        ({"all": [VIP, {"field": "tags", "op": "has"}]}, "rules.all.1.value"),
        ({"all": [{"field": "tags", "op": "has", "value": "x", "extra": 1}]}, "rules.all.0.extra"),
        ({"any": [{"field": "custom.x", "op": "gt", "value": True}]}, "rules.any.0.value"),
        ({"any": [{"field": "created_at", "op": "within_days", "value": 0}]}, "rules.any.0.value"),
        ({"any": [{"field": "opted_out", "op": "eq", "value": "yes"}]}, "rules.any.0.value"),
        ({"all": [VIP] * 51}, "rules.all"),
        ({"all": [{"any": [VIP] * 30}, {"any": [VIP] * 30}]}, "rules.all.1.any.20"),
        (too_deep, "rules.not.not.not.not.not"),
        ({"all": "vip"}, "rules.all"),
    ]
    for rules, field in cases:
        for url in ("/api/v1/segments/", "/api/v1/segments/count"):
            response = client.post(url, json={"name": "s", "rules": rules}, headers=admin.headers)
            assert response.status_code == 422, (rules, response.text)
            assert response.json()["error"]["details"][0]["field"] == field, (url, rules, response.json())
    created = client.post("/api/v1/segments/", json={"name": "ok", "rules": VIP}, headers=admin.headers).json()
    bad_update = client.put(f"/api/v1/segments/{created['id']}", json={"rules": {"any": []}}, headers=admin.headers)
    assert bad_update.status_code == 422
    assert bad_update.json()["error"]["details"][0]["field"] == "rules.any"
    assert (
        client.put(f"/api/v1/segments/{created['id']}", json={"name": None}, headers=admin.headers).status_code == 422
    )


def test_count_and_paginated_preview(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    rows = [{"phone": us_phone(i), "tags": ["vip"] if i % 3 == 0 else ["other"]} for i in range(300)]
    seed_contacts(factory.runtime, admin.tenant_id, rows)
    segment = client.post("/api/v1/segments/", json={"name": "VIPs", "rules": VIP}, headers=admin.headers).json()
    url = f"/api/v1/segments/{segment['id']}"
    assert client.get(f"{url}/count", headers=admin.headers).json() == {"count": 100}
    preview = all_pages(client, admin, f"{url}/preview", limit=30)
    assert len(preview) == 100
    assert all("vip" in c["tags"] for c in preview)
    assert preview[0]["phone"] == us_phone(297)
    assert client.get(f"{url}/preview?limit=501", headers=admin.headers).status_code == 422


def test_segment_permissions(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    viewer = factory.member(admin, TenantRole.viewer)
    sales = factory.member(admin, TenantRole.sales)
    body = {"name": "VIPs", "rules": VIP}
    assert client.post("/api/v1/segments/", json=body, headers=viewer.headers).status_code == 403
    created = client.post("/api/v1/segments/", json=body, headers=sales.headers)
    assert created.status_code == 201
    url = f"/api/v1/segments/{created.json()['id']}"
    assert client.get(url, headers=viewer.headers).status_code == 200
    assert client.post("/api/v1/segments/count", json={"rules": VIP}, headers=viewer.headers).status_code == 200
    assert client.delete(url, headers=viewer.headers).status_code == 403
    assert client.get("/api/v1/segments/").status_code == 401
