"""Upload, wait and inspect helpers for the import tests."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.core.runtime import Runtime
from greenline.models import Contact, ContactImportError
from tests.factories import Actor

URL = "/api/v1/contacts/bulk-import"
FINISHED = ("completed", "failed", "cancelled")


def upload(
    client: TestClient, actor: Actor, content: bytes, filename: str = "contacts.csv", **fields: Any
) -> httpx.Response:
    """POST the file with form fields (dicts and lists as JSON, booleans as true/false)."""
    data = {}
    for key, value in fields.items():
        if isinstance(value, (dict, list)):
            data[key] = json.dumps(value)
        elif isinstance(value, bool):
            data[key] = str(value).lower()
        else:
            data[key] = str(value)
    return client.post(URL, files={"file": (filename, content, "text/csv")}, data=data, headers=actor.headers)


def wait_done(client: TestClient, actor: Actor, import_id: int, timeout: float = 120) -> dict[str, Any]:
    """Poll the progress endpoint until the import finishes (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/contacts/imports/{import_id}", headers=actor.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in FINISHED:
            return body
        assert time.monotonic() < deadline, f"import still {body['status']} after {timeout}s: {body}"
        time.sleep(0.02)


def run_import(
    client: TestClient, actor: Actor, content: bytes, filename: str = "contacts.csv", **fields: Any
) -> dict[str, Any]:
    """Upload with start=true and wait for the end."""
    response = upload(client, actor, content, filename, start=True, **fields)
    assert response.status_code == 201, response.text
    return wait_done(client, actor, response.json()["id"])


def contacts(runtime: Runtime, tenant_id: int | None) -> list[Contact]:
    assert tenant_id is not None
    with runtime.db.session(tenant_id) as session:
        return list(session.scalars(select(Contact).order_by(Contact.id)))


def error_rows(runtime: Runtime, tenant_id: int | None, import_id: int) -> list[ContactImportError]:
    assert tenant_id is not None
    with runtime.db.session(tenant_id) as session:
        stmt = select(ContactImportError).where(ContactImportError.import_id == import_id)
        return list(session.scalars(stmt.order_by(ContactImportError.row_number)))


def all_errors(client: TestClient, actor: Actor, import_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Every page of GET /imports/{id}/errors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/api/v1/contacts/imports/{import_id}/errors", params=params, headers=actor.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
