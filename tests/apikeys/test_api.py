from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.core.runtime import Runtime
from greenline.core.security import sha256_hex
from greenline.models import ApiKey
from tests.factories import Factory


def test_key_is_shown_once_and_stored_hashed(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin, scopes=["contacts:read", "tenant:read"])
    secret = key.extra["key"]["key"]  # type: ignore[index]
    assert secret.startswith("gl_")
    listed = client.get(f"/api/v1/tenants/{admin.tenant_id}/api-keys", headers=admin.headers).json()
    assert len(listed) == 1
    assert "key" not in listed[0]
    assert listed[0]["prefix"] == secret[: len(listed[0]["prefix"])]
    with runtime.db.session(admin.tenant_id) as session:
        stored = session.scalars(select(ApiKey)).one()
    assert stored.key_hash == sha256_hex(secret)
    assert secret not in (stored.key_hash, stored.prefix)


def test_key_authenticates_with_both_headers_and_tracks_last_used(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin)
    secret = key.extra["key"]["key"]  # type: ignore[index]
    by_header = client.get("/api/v1/auth/me", headers={"X-API-Key": secret})
    assert by_header.status_code == 200
    assert by_header.json()["tenant_id"] == admin.tenant_id
    assert by_header.json()["api_key_id"] == key.extra["key"]["id"]  # type: ignore[index]
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = client.get(f"/api/v1/tenants/{admin.tenant_id}/api-keys", headers=admin.headers).json()
    assert listed[0]["last_used"] is not None


def test_scopes_limit_what_a_key_can_do(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin, scopes=["tenant:read"])
    assert client.get(f"/api/v1/tenants/{admin.tenant_id}", headers=key.headers).status_code == 200
    assert client.get("/api/v1/users/", headers=key.headers).status_code == 403
    # Keys never manage keys, whatever they were granted.
    assert client.get(f"/api/v1/tenants/{admin.tenant_id}/api-keys", headers=key.headers).status_code == 403
    refused = client.post(
        f"/api/v1/tenants/{admin.tenant_id}/api-keys",
        json={"name": "escalate", "scopes": ["api_keys:manage"]},
        headers=admin.headers,
    )
    assert refused.status_code == 422


def test_revoked_expired_and_unknown_keys_are_401(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin)
    key_id = key.extra["key"]["id"]  # type: ignore[index]
    assert (
        client.delete(f"/api/v1/tenants/{admin.tenant_id}/api-keys/{key_id}", headers=admin.headers).status_code == 204
    )
    revoked = client.get("/api/v1/auth/me", headers=key.headers)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "invalid_api_key"

    soon = factory.api_key(admin, expires_at=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat())
    with runtime.task_session(admin.tenant_id) as session:
        stored = session.get(ApiKey, soon.extra["key"]["id"])  # type: ignore[index]
        assert stored is not None
        stored.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert client.get("/api/v1/auth/me", headers=soon.headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers={"X-API-Key": "gl_deadbeef_nope"}).status_code == 401


def test_per_key_rate_limit_answers_429_with_retry_after(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin, rate_limit=3)
    statuses = [client.get("/api/v1/auth/me", headers=key.headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/auth/me", headers=key.headers)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Another key of the same tenant has its own budget.
    other = factory.api_key(admin, rate_limit=3)
    assert client.get("/api/v1/auth/me", headers=other.headers).status_code == 200


def test_invalid_key_requests_are_422(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    url = f"/api/v1/tenants/{admin.tenant_id}/api-keys"
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    for body, field in (
        ({"name": ""}, "body.name"),
        ({"name": "k", "rate_limit": 0}, "body.rate_limit"),
        ({"name": "k", "expires_at": past}, "body.expires_at"),
        ({"name": "k", "scopes": ["root"]}, "body.scopes.0"),
    ):
        response = client.post(url, json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"] == field


def test_non_admins_cannot_manage_keys(client: TestClient, factory: Factory) -> None:
    from greenline.core.permissions import TenantRole

    admin = factory.tenant()
    marketer = factory.member(admin, TenantRole.marketer)
    url = f"/api/v1/tenants/{admin.tenant_id}/api-keys"
    assert client.post(url, json={"name": "k"}, headers=marketer.headers).status_code == 403
    assert client.get(url, headers=marketer.headers).status_code == 403
