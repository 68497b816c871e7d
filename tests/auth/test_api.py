from __future__ import annotations

import datetime as dt

import jwt
from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from greenline.core.runtime import Runtime
from tests.factories import PASSWORD, Factory


def test_login_form_and_me(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.post("/api/v1/auth/login", data={"username": admin.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == admin.email
    assert me.json()["role"] == "admin"
    assert me.json()["tenant_id"] == admin.tenant_id
    assert "users:write" in me.json()["permissions"]


def test_wrong_password_is_401_with_error_body(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.post("/api/v1/auth/login-json", json={"email": admin.email, "password": "nope-nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    unknown = client.post("/api/v1/auth/login-json", json={"email": "ghost@x.test", "password": "nope-nope"})
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == response.json()["error"]["message"]


def test_failed_logins_are_throttled_per_account(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    limit = runtime.settings.login_max_failures_per_account
    for _ in range(limit):
        assert client.post("/api/v1/auth/login-json", json={"email": admin.email, "password": "bad"}).status_code == 401
    blocked = client.post("/api/v1/auth/login-json", json={"email": admin.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["error"]["code"] == "rate_limited"


def test_failed_logins_are_throttled_per_ip(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    factory.superadmin()
    limit = runtime.settings.login_max_failures_per_ip
    for i in range(limit):
        client.post("/api/v1/auth/login-json", json={"email": f"spray{i}@x.test", "password": "bad"})
    response = client.post("/api/v1/auth/login-json", json={"email": "root@platform.test", "password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != admin.refresh_token
    new_headers = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=new_headers).status_code == 200

    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert reuse.status_code == 401
    # The whole family is revoked: the newest refresh token and the access tokens die too.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401
    assert client.get("/api/v1/auth/me", headers=new_headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=admin.headers).status_code == 401


def test_logout_revokes_access_and_refresh(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert client.post("/api/v1/auth/logout", headers=admin.headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=admin.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token}).status_code == 401


def test_expired_and_tampered_tokens_are_401(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    token = admin.headers["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).timestamp())
    expired = jwt.encode(claims, runtime.settings.secret_key, algorithm="HS256")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    forged = jwt.encode({**claims, "exp": claims["exp"] + 3600}, "not-the-secret-key-at-all-000000", algorithm="HS256")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/auth/me").status_code == 401


def test_user_in_two_tenants_switches_with_header(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    b = factory.tenant()
    response = client.post(
        f"/api/v1/tenants/{b.tenant_id}/users", json={"email": a.email, "role": "sales"}, headers=b.headers
    )
    assert response.status_code == 201
    as_b = client.get("/api/v1/auth/me", headers={**a.headers, "X-Tenant-ID": str(b.tenant_id)})
    assert as_b.json()["tenant_id"] == b.tenant_id
    assert as_b.json()["role"] == TenantRole.sales
    assert len(as_b.json()["memberships"]) == 2
    # A tenant the user does not belong to is simply not found.
    c = factory.tenant()
    stranger = client.get("/api/v1/auth/me", headers={**a.headers, "X-Tenant-ID": str(c.tenant_id)})
    assert stranger.status_code == 404
    garbage = client.get("/api/v1/auth/me", headers={**a.headers, "X-Tenant-ID": "abc"})
    assert garbage.status_code == 404


def test_refresh_can_switch_tenant(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    b = factory.tenant()
    client.post(f"/api/v1/tenants/{b.tenant_id}/users", json={"email": a.email, "role": "viewer"}, headers=b.headers)
    switched = client.post("/api/v1/auth/refresh", json={"refresh_token": a.refresh_token, "tenant_id": b.tenant_id})
    assert switched.status_code == 200
    assert switched.json()["tenant_id"] == b.tenant_id


def test_disabled_user_cannot_log_in(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    sales = factory.member(admin, TenantRole.sales)
    assert (
        client.put(f"/api/v1/users/{sales.user_id}", json={"is_active": False}, headers=admin.headers).status_code
        == 200
    )
    assert client.get("/api/v1/auth/me", headers=sales.headers).status_code == 401
    response = client.post("/api/v1/auth/login-json", json={"email": sales.email, "password": PASSWORD})
    assert response.status_code == 401


def test_login_validation_errors_name_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/auth/login-json", json={"email": "not-an-email", "password": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body.email"
    form = client.post("/api/v1/auth/login", data={"username": "nobody", "password": "x"})
    assert form.status_code == 422
    assert form.json()["error"]["details"][0]["field"] == "username"
