from __future__ import annotations

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.factories import PASSWORD, Factory


def test_superadmin_manages_tenants(client: TestClient, factory: Factory) -> None:
    root = factory.superadmin()
    created = client.post(
        "/api/v1/tenants/",
        json={"name": "Acme Shoes", "domain": "acme.example", "plan": "pro", "settings": {"default_country": "BR"}},
        headers=root.headers,
    )
    assert created.status_code == 201, created.text
    tenant = created.json()
    assert tenant["slug"] == "acme-shoes"
    assert tenant["settings"]["default_country"] == "BR"

    listed = client.get("/api/v1/tenants/", headers=root.headers).json()
    assert tenant["id"] in [t["id"] for t in listed]

    updated = client.put(f"/api/v1/tenants/{tenant['id']}", json={"plan": "enterprise"}, headers=root.headers)
    assert updated.status_code == 200
    assert updated.json()["plan"] == "enterprise"

    assert client.delete(f"/api/v1/tenants/{tenant['id']}", headers=root.headers).status_code == 204
    assert client.get(f"/api/v1/tenants/{tenant['id']}", headers=root.headers).status_code == 404


def test_duplicate_slug_is_409_and_slug_is_generated_uniquely(client: TestClient, factory: Factory) -> None:
    root = factory.superadmin()
    first = client.post("/api/v1/tenants/", json={"name": "Same Name"}, headers=root.headers).json()
    second = client.post("/api/v1/tenants/", json={"name": "Same Name"}, headers=root.headers).json()
    assert first["slug"] != second["slug"]
    clash = client.post("/api/v1/tenants/", json={"name": "X", "slug": first["slug"]}, headers=root.headers)
    assert clash.status_code == 409
    assert clash.json()["error"]["details"][0]["field"] == "slug"


def test_tenant_admin_cannot_create_or_delete_tenants_or_change_plan(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert client.post("/api/v1/tenants/", json={"name": "Mine"}, headers=admin.headers).status_code == 403
    assert client.delete(f"/api/v1/tenants/{admin.tenant_id}", headers=admin.headers).status_code == 403
    response = client.put(
        f"/api/v1/tenants/{admin.tenant_id}",
        json={"name": "Renamed", "plan": "enterprise", "settings": {"timezone": "Europe/Lisbon"}},
        headers=admin.headers,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["plan"] == "free"
    assert body["settings"]["timezone"] == "Europe/Lisbon"


def test_non_admin_roles_cannot_edit_the_tenant(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    marketer = factory.member(admin, TenantRole.marketer)
    assert client.get(f"/api/v1/tenants/{admin.tenant_id}", headers=marketer.headers).status_code == 200
    response = client.put(f"/api/v1/tenants/{admin.tenant_id}", json={"name": "Hijack"}, headers=marketer.headers)
    assert response.status_code == 403


def test_tenant_users_add_list_remove(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    added = client.post(
        f"/api/v1/tenants/{admin.tenant_id}/users",
        json={"email": "New.Person@Example.com", "role": "sales", "password": PASSWORD, "full_name": "New Person"},
        headers=admin.headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["email"] == "new.person@example.com"
    members = client.get(f"/api/v1/tenants/{admin.tenant_id}/users", headers=admin.headers).json()
    assert {m["role"] for m in members} == {"admin", "sales"}
    again = client.post(
        f"/api/v1/tenants/{admin.tenant_id}/users", json={"email": "new.person@example.com"}, headers=admin.headers
    )
    assert again.status_code == 409
    user_id = added.json()["user_id"]
    assert client.delete(f"/api/v1/tenants/{admin.tenant_id}/users/{user_id}", headers=admin.headers).status_code == 204
    assert len(client.get(f"/api/v1/tenants/{admin.tenant_id}/users", headers=admin.headers).json()) == 1


def test_new_user_without_password_is_422_naming_the_field(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.post(
        f"/api/v1/tenants/{admin.tenant_id}/users", json={"email": "nobody@new.test"}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "password"


def test_last_admin_cannot_be_removed(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.delete(f"/api/v1/tenants/{admin.tenant_id}/users/{admin.user_id}", headers=admin.headers)
    assert response.status_code == 409


def test_invalid_tenant_input_is_422(client: TestClient, factory: Factory) -> None:
    root = factory.superadmin()
    for body, field in (
        ({"name": ""}, "body.name"),
        ({"name": "A", "slug": "Bad Slug"}, "body.slug"),
        ({"name": "A", "plan": "platinum"}, "body.plan"),
        ({"name": "A", "settings": {"colour": "green"}}, "body.settings.colour"),
    ):
        response = client.post("/api/v1/tenants/", json=body, headers=root.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"] == field


def test_deleting_a_tenant_removes_its_members_and_keys(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin)
    root = factory.superadmin()
    assert client.delete(f"/api/v1/tenants/{admin.tenant_id}", headers=root.headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=key.headers).status_code == 401
    me = client.get("/api/v1/auth/me", headers=admin.headers).json()
    assert me["tenant_id"] is None
    assert me["memberships"] == []
