"""Typed helpers that build tenants, users and keys through the real API and services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from greenline.core.runtime import Runtime
from greenline.demo import ensure_superadmin

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class Actor:
    """Someone calling the API: a user token or an API key, acting in one tenant."""

    headers: dict[str, str]
    tenant_id: int | None
    user_id: int | None = None
    email: str | None = None
    refresh_token: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


class Factory:
    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime
        self._superadmin: Actor | None = None

    def login(self, email: str, password: str = PASSWORD, tenant_id: int | None = None) -> Actor:
        body: dict[str, object] = {"email": email, "password": password}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        response = self.client.post("/api/v1/auth/login-json", json=body)
        assert response.status_code == 200, response.text
        tokens = response.json()
        me = self.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
        return Actor(
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            tenant_id=tokens["tenant_id"],
            user_id=me["id"],
            email=email,
            refresh_token=tokens["refresh_token"],
        )

    def superadmin(self) -> Actor:
        if self._superadmin is None:
            with self.runtime.task_session() as session:
                ensure_superadmin(session, "root@platform.test", PASSWORD)
            self._superadmin = self.login("root@platform.test")
        return self._superadmin

    def tenant(self, name: str | None = None, role: TenantRole = TenantRole.admin) -> Actor:
        """A new tenant and a logged-in member of it (admin by default)."""
        n = next(_seq)
        name = name or f"Tenant {n}"
        email = f"{role}{n}@tenant{n}.test"
        response = self.client.post(
            "/api/v1/tenants/",
            json={"name": name, "admin": {"email": email, "role": role, "password": PASSWORD}},
            headers=self.superadmin().headers,
        )
        assert response.status_code == 201, response.text
        return self.login(email, tenant_id=response.json()["id"])

    def member(self, admin: Actor, role: TenantRole) -> Actor:
        """Another user in the admin's tenant with the given role."""
        n = next(_seq)
        email = f"{role}{n}@member.test"
        response = self.client.post(
            f"/api/v1/tenants/{admin.tenant_id}/users",
            json={"email": email, "role": role, "password": PASSWORD},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        return self.login(email, tenant_id=admin.tenant_id)

    def api_key(self, admin: Actor, **body: object) -> Actor:
        payload: dict[str, object] = {"name": f"key {next(_seq)}", **body}
        response = self.client.post(f"/api/v1/tenants/{admin.tenant_id}/api-keys", json=payload, headers=admin.headers)
        assert response.status_code == 201, response.text
        key = response.json()
        return Actor(headers={"X-API-Key": key["key"]}, tenant_id=admin.tenant_id, extra={"key": key})
