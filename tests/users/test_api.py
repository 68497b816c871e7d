from __future__ import annotations

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.factories import PASSWORD, Factory


def test_admin_creates_lists_and_updates_users(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = client.post(
        "/api/v1/users/",
        json={"email": "maria@shop.test", "password": PASSWORD, "full_name": "Maria", "role": "marketer"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["role"] == "marketer"
    assert "password" not in user
    assert "password_hash" not in user

    listed = client.get("/api/v1/users/", headers=admin.headers).json()
    assert {u["email"] for u in listed} == {admin.email, "maria@shop.test"}

    updated = client.put(
        f"/api/v1/users/{user['id']}", json={"role": "sales", "full_name": "Maria S"}, headers=admin.headers
    )
    assert updated.status_code == 200
    assert updated.json()["role"] == "sales"
    assert updated.json()["full_name"] == "Maria S"

    changed = client.put(f"/api/v1/users/{user['id']}", json={"password": "a-brand-new-pass"}, headers=admin.headers)
    assert changed.status_code == 200
    login = client.post("/api/v1/auth/login-json", json={"email": "maria@shop.test", "password": "a-brand-new-pass"})
    assert login.status_code == 200


def test_duplicate_email_is_409(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.post("/api/v1/users/", json={"email": admin.email, "password": PASSWORD}, headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "email"


def test_roles_limit_user_management(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    marketer = factory.member(admin, TenantRole.marketer)
    sales = factory.member(admin, TenantRole.sales)
    body = {"email": "x@y.test", "password": PASSWORD}
    assert client.post("/api/v1/users/", json=body, headers=marketer.headers).status_code == 403
    assert client.get("/api/v1/users/", headers=marketer.headers).status_code == 200
    assert client.get("/api/v1/users/", headers=sales.headers).status_code == 403
    assert (
        client.put(f"/api/v1/users/{admin.user_id}", json={"role": "sales"}, headers=marketer.headers).status_code
        == 403
    )


def test_last_admin_cannot_be_demoted(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.put(f"/api/v1/users/{admin.user_id}", json={"role": "viewer"}, headers=admin.headers)
    assert response.status_code == 409


def test_shared_account_profile_is_not_editable_by_one_tenant(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    b = factory.tenant()
    client.post(f"/api/v1/tenants/{b.tenant_id}/users", json={"email": a.email, "role": "sales"}, headers=b.headers)
    # B's admin may change A-admin's role in B, not the account's password.
    assert (
        client.put(f"/api/v1/users/{a.user_id}", json={"password": "taken-over-pw"}, headers=b.headers).status_code
        == 403
    )
    assert client.put(f"/api/v1/users/{a.user_id}", json={"role": "viewer"}, headers=b.headers).status_code == 200


def test_pagination_bounds_are_validated(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert client.get("/api/v1/users/?limit=0", headers=admin.headers).status_code == 422
    assert client.get("/api/v1/users/?limit=1", headers=admin.headers).json().__len__() == 1
