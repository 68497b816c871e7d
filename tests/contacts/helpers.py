"""Helpers to build contacts: one through the API, or hundreds in one INSERT."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert

from greenline.core.runtime import Runtime
from greenline.models import Contact
from tests.factories import Actor

BASE_TIME = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def us_phone(n: int) -> str:
    """A valid US number, distinct for each n < 10000 (+1 415 555 nnnn)."""
    return f"+1415555{n:04d}"


def make_contact(client: TestClient, actor: Actor, **body: Any) -> dict[str, Any]:
    """Create a contact through the API and return its JSON."""
    response = client.post("/api/v1/contacts/", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def seed_contacts(runtime: Runtime, tenant_id: int, rows: list[dict[str, Any]]) -> None:
    """Insert contacts in one statement (fast setup for pagination and rule tests).

    Each row needs `phone`; created_at defaults to BASE_TIME plus one minute per row.
    """
    values = []
    for i, row in enumerate(rows):
        values.append(
            {
                "tenant_id": tenant_id,
                "tags": [],
                "custom_data": {},
                "created_at": BASE_TIME + dt.timedelta(minutes=i),
                "updated_at": BASE_TIME + dt.timedelta(minutes=i),
                **row,
            }
        )
    with runtime.task_session(tenant_id) as session:
        session.execute(insert(Contact), values)


def all_pages(client: TestClient, actor: Actor, url: str, limit: int) -> list[dict[str, Any]]:
    """Follow `next_cursor` to the end and return every item."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    sep = "&" if "?" in url else "?"
    for _ in range(10_000):
        page_url = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(page_url, headers=actor.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")
