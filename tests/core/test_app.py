"""Operations surface: root info, health, metrics, request ids and the one error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.factories import Factory


def test_root_and_health(client: TestClient) -> None:
    root = client.get("/")
    assert root.status_code == 200
    assert root.json()["name"] == "Greenline"
    health = client.get("/api/v1/health/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "disabled",
        "mode": "embedded",
        "version": root.json()["version"],
    }


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    generated = client.get("/").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    # Garbage is not reflected back into our headers or logs.
    assert client.get("/", headers={"X-Request-ID": "bad id\twith junk"}).headers["X-Request-ID"] != "bad id\twith junk"


def test_metrics_count_requests_by_route(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    client.get(f"/api/v1/tenants/{admin.tenant_id}", headers=admin.headers)
    body = client.get("/metrics").text
    assert 'greenline_http_requests_total{method="GET",route="/api/v1/tenants/{tenant_id}",status="200"}' in body
    assert "greenline_http_request_seconds_bucket" in body


def test_errors_share_one_shape(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    not_found = client.get("/api/v1/nowhere")
    assert not_found.status_code == 404
    assert set(not_found.json()["error"]) == {"code", "message", "details"}
    wrong_method = client.patch("/api/v1/users/")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    bad_json = client.post(
        "/api/v1/users/", content=b"{not json", headers={**admin.headers, "content-type": "application/json"}
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["error"]["code"] == "validation_error"
    too_big = client.get("/api/v1/users/99999999999999999999999", headers=admin.headers)
    assert too_big.status_code == 422
    assert too_big.json()["error"]["details"][0]["field"] == "path.user_id"


def test_nul_bytes_and_huge_numbers_are_4xx(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    response = client.put(f"/api/v1/tenants/{admin.tenant_id}", json={"name": "bad\x00name"}, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "body"
    query = client.get("/api/v1/users/?limit=1%00", headers=admin.headers)
    assert query.status_code == 422
    response = client.post("/api/v1/auth/login-json", json={"email": "a@b.co", "password": "x", "tenant_id": 2**70})
    assert response.status_code == 422


def test_a_failed_commit_is_reported_not_answered_with_2xx(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = factory.tenant()

    def failing_commit(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    # Failure injection at the database boundary: the response must wait for the commit.
    monkeypatch.setattr(Session, "commit", failing_commit)
    response = client.post(
        f"/api/v1/tenants/{admin.tenant_id}/api-keys", json={"name": "never stored"}, headers=admin.headers
    )
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    listed = client.get(f"/api/v1/tenants/{admin.tenant_id}/api-keys", headers=admin.headers).json()
    assert listed == []


def test_cursor_with_nulls_is_rejected() -> None:
    from greenline.core.errors import InvalidInput
    from greenline.core.pagination import decode_cursor, encode_cursor

    with pytest.raises(InvalidInput):
        decode_cursor(encode_cursor([None, None]), 2)
    with pytest.raises(InvalidInput):
        decode_cursor("!!not-base64!!", 2)
    assert decode_cursor(encode_cursor(["2026-01-01", 5]), 2) == ["2026-01-01", 5]
