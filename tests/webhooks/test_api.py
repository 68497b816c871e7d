"""Webhook endpoint CRUD, validation, secrets and permissions, through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.core.permissions import TenantRole
from greenline.models import WebhookEndpoint
from greenline.webhooks import api
from greenline.webhooks.events import WebhookEventType
from tests.factories import Factory
from tests.webhooks.helpers import create_endpoint

URL = "https://hooks.example.test/greenline"


def test_create_shows_the_secret_once_and_stores_it_encrypted(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = create_endpoint(
        client, admin, URL, ["contact.created", "message.received", "contact.created"], description="CRM sync"
    )
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) == len("whsec_") + 64
    assert created["event_types"] == ["contact.created", "message.received"]
    assert created["is_active"] is True

    fetched = client.get(f"/api/v1/webhooks/{created['id']}", headers=admin.headers)
    assert fetched.status_code == 200
    assert "secret" not in fetched.json()
    listed = client.get("/api/v1/webhooks/", headers=admin.headers).json()
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    assert secret not in str(listed)

    with factory.runtime.db.session(admin.tenant_id) as session:
        stored = session.scalars(select(WebhookEndpoint)).one()
        assert secret not in stored.secret_encrypted
        assert factory.runtime.secrets.decrypt(stored.secret_encrypted) == secret


def test_rotate_secret_replaces_it(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = create_endpoint(client, admin, URL, ["*"])
    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret", headers=admin.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != created["secret"]
    with factory.runtime.db.session(admin.tenant_id) as session:
        stored = session.scalars(select(WebhookEndpoint)).one()
        assert factory.runtime.secrets.decrypt(stored.secret_encrypted) == new_secret


def test_update_and_delete(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = create_endpoint(client, admin, URL, ["contact.created"], description="old")
    url = f"/api/v1/webhooks/{created['id']}"
    body = {"url": "http://crm.internal:8080/in", "event_types": ["*", "lead.status_changed"], "is_active": False}
    updated = client.put(url, json=body, headers=admin.headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["url"] == "http://crm.internal:8080/in"
    assert updated.json()["event_types"] == ["*"]
    assert updated.json()["is_active"] is False
    assert updated.json()["description"] == "old"

    cleared = client.put(url, json={"description": None}, headers=admin.headers)
    assert cleared.json()["description"] is None
    assert cleared.json()["url"] == "http://crm.internal:8080/in"
    null_url = client.put(url, json={"url": None}, headers=admin.headers)
    assert null_url.status_code == 422
    assert null_url.json()["error"]["details"][0]["field"] == "body.url"

    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(url, headers=admin.headers).status_code == 404
    assert client.delete(url, headers=admin.headers).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.test/x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "hooks.example.test/no-scheme",
        "https://user:pass@hooks.example.test/x",
        "https://token@hooks.example.test/x",
        "https:///no-host",
        "https://hooks.example.test:99999/x",
        "https://hooks.example.test:0/x",
        "https://hooks example.test/x",
        "https://hooks.example.test/x#frag",
        "https://bücher.example/x",
        "https://[not-ipv6]/x",
        "https://" + "a" * 2000 + ".test/",
    ],
)
def test_bad_urls_are_422_naming_the_field(client: TestClient, factory: Factory, url: str) -> None:
    admin = factory.tenant()
    response = client.post("/api/v1/webhooks/", json={"url": url, "event_types": ["*"]}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.url"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "http://localhost/hook", "https://[::1]:8443/x", "http://crm.local/in?x=1"]
)
def test_internal_hosts_are_allowed(client: TestClient, factory: Factory, url: str) -> None:
    admin = factory.tenant()
    assert create_endpoint(client, admin, url, ["*"])["url"] == url


@pytest.mark.parametrize("event_types", [[], ["message.sent"], ["contact.created", "nope"], ["webhook.test"]])
def test_bad_event_types_are_422_naming_the_field(client: TestClient, factory: Factory, event_types: list[str]) -> None:
    admin = factory.tenant()
    response = client.post("/api/v1/webhooks/", json={"url": URL, "event_types": event_types}, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "body.event_types"


def test_event_type_catalogue(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    types = {t["type"] for t in client.get("/api/v1/webhooks/event-types", headers=admin.headers).json()}
    assert types == {*(str(t) for t in WebhookEventType), "*"}
    assert {"message.status", "campaign.paused", "import.completed"} <= types


def test_endpoint_count_is_capped(client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenline.webhooks import service

    monkeypatch.setattr(service, "MAX_ENDPOINTS_PER_TENANT", 2)
    admin = factory.tenant()
    create_endpoint(client, admin, URL, ["*"])
    create_endpoint(client, admin, URL, ["*"])
    third = client.post("/api/v1/webhooks/", json={"url": URL, "event_types": ["*"]}, headers=admin.headers)
    assert third.status_code == 409


def test_list_is_keyset_paginated(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    ids = [create_endpoint(client, admin, f"{URL}/{i}", ["*"])["id"] for i in range(3)]
    first = client.get("/api/v1/webhooks/", params={"limit": 2}, headers=admin.headers).json()
    assert [e["id"] for e in first["items"]] == ids[:2]
    rest = client.get(
        "/api/v1/webhooks/", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers
    ).json()
    assert [e["id"] for e in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None


def test_permissions(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    marketer = factory.member(admin, TenantRole.marketer)
    assert client.get("/api/v1/webhooks/", headers=marketer.headers).status_code == 403
    body = {"url": URL, "event_types": ["*"]}
    assert client.post("/api/v1/webhooks/", json=body, headers=marketer.headers).status_code == 403
    assert client.get("/api/v1/webhooks/logs", headers=marketer.headers).status_code == 403
    assert client.get("/api/v1/webhooks/").status_code == 401

    key = factory.api_key(admin, scopes=["webhooks:manage"])
    assert client.post("/api/v1/webhooks/", json=body, headers=key.headers).status_code == 201
    narrow = factory.api_key(admin, scopes=["contacts:read"])
    assert client.get("/api/v1/webhooks/", headers=narrow.headers).status_code == 403


def test_test_event_needs_an_active_endpoint(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = create_endpoint(client, admin, "http://127.0.0.1:9/closed", ["contact.created"], is_active=False)
    response = client.post(f"/api/v1/webhooks/{created['id']}/test", headers=admin.headers)
    assert response.status_code == 409
    assert client.post("/api/v1/webhooks/999999/test", headers=admin.headers).status_code == 404


def test_item_routes_never_capture_other_webhook_receivers() -> None:
    # The inbound router owns /webhooks/whatsapp and /webhooks/baileys; ours take integer ids only,
    # so even when ours is included first, those requests reach the other router.
    from fastapi import APIRouter, FastAPI

    inbound = APIRouter(prefix="/webhooks")

    @inbound.api_route("/whatsapp", methods=["GET", "POST", "PUT", "DELETE"])
    def whatsapp() -> dict[str, str]:
        return {"handled_by": "inbound"}

    @inbound.post("/baileys")
    def baileys() -> dict[str, str]:
        return {"handled_by": "inbound"}

    app = FastAPI()
    app.include_router(api.router, prefix="/api/v1")
    app.include_router(inbound, prefix="/api/v1")
    with TestClient(app) as probe:
        for method in ("GET", "POST", "PUT", "DELETE"):
            response = probe.request(method, "/api/v1/webhooks/whatsapp")
            assert response.json() == {"handled_by": "inbound"}, (method, response.text)
        assert probe.post("/api/v1/webhooks/baileys").json() == {"handled_by": "inbound"}


def test_other_tenants_cannot_rotate_or_test_an_endpoint(client: TestClient, factory: Factory) -> None:
    a, b = factory.tenant(), factory.tenant()
    created = create_endpoint(client, a, URL, ["*"])
    for outsider in (b, factory.api_key(b)):
        for action in ("rotate-secret", "test"):
            response = client.post(f"/api/v1/webhooks/{created['id']}/{action}", headers=outsider.headers)
            assert response.status_code == 404, (action, response.text)
    with factory.runtime.db.session(a.tenant_id) as session:
        stored = session.scalars(select(WebhookEndpoint)).one()
        assert factory.runtime.secrets.decrypt(stored.secret_encrypted) == created["secret"]
