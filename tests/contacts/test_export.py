from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from greenline.contacts import export
from tests.contacts.helpers import make_contact, seed_contacts, us_phone
from tests.factories import Factory

HEADER = [
    "id",
    "phone",
    "name",
    "email",
    "tags",
    "status",
    "priority",
    "source",
    "country",
    "timezone",
    "language",
    "opted_out",
    "created_at",
    "custom_data",
]


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert header == HEADER
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_export_content_is_complete_and_formula_safe(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    ana = make_contact(
        client,
        admin,
        phone="+14155552671",
        name='Ana, "the" boss',
        email="ana@shop.test",
        tags=["vip", "newsletter"],
        custom_data={"orders": 3, "note": "=1+1"},
        source="web",
    )
    make_contact(client, admin, phone=us_phone(1), name='=HYPERLINK("http://evil")', tags=["-2+3"], source="@SUM(1)")
    client.post(f"/api/v1/contacts/{ana['id']}/opt-out", json={}, headers=admin.headers)

    response = client.get("/api/v1/contacts/export", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="contacts-')
    first, second = _rows(response.text)
    assert first == {
        "id": str(ana["id"]),
        "phone": "+14155552671",
        "name": 'Ana, "the" boss',
        "email": "ana@shop.test",
        "tags": "vip;newsletter",
        "status": "unsubscribed",
        "priority": "medium",
        "source": "web",
        "country": "US",
        "timezone": "America/Los_Angeles",
        "language": "en",
        "opted_out": "true",
        "created_at": ana["created_at"].replace("Z", "+00:00"),
        "custom_data": first["custom_data"],
    }
    assert json.loads(first["custom_data"]) == {"orders": 3, "note": "=1+1"}
    # Formulas are neutralised; a bare E.164 number is not a formula and stays re-importable.
    assert second["name"] == '\'=HYPERLINK("http://evil")'
    assert second["tags"] == "'-2+3"
    assert second["source"] == "'@SUM(1)"
    assert second["phone"] == us_phone(1)
    assert second["opted_out"] == "false"


def test_safe_cell() -> None:
    assert export.safe_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert export.safe_cell("\t=1") == "'\t=1"
    assert export.safe_cell("+4915123456789") == "+4915123456789"
    assert export.safe_cell("-12.5") == "-12.5"
    assert export.safe_cell("-1+2") == "'-1+2"
    assert export.safe_cell("plain") == "plain"


def test_export_applies_list_filters_and_segments(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    rows = [
        {"phone": us_phone(i), "tags": ["vip"] if i < 3 else [], "status": "blocked" if i == 0 else "active"}
        for i in range(6)
    ]
    seed_contacts(factory.runtime, admin.tenant_id, rows)

    def phones(params: dict[str, object]) -> list[str]:
        response = client.get("/api/v1/contacts/export", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [row["phone"] for row in _rows(response.text)]

    assert phones({"tag": "vip"}) == [us_phone(0), us_phone(1), us_phone(2)]
    assert phones({"tag": "vip", "status": "active"}) == [us_phone(1), us_phone(2)]
    segment = client.post(
        "/api/v1/segments/",
        json={"name": "blocked", "rules": {"field": "status", "op": "eq", "value": "blocked"}},
        headers=admin.headers,
    ).json()
    assert phones({"segment_id": segment["id"]}) == [us_phone(0)]
    assert phones({"segment_id": segment["id"], "tag": "nope"}) == []

    missing = client.get("/api/v1/contacts/export?segment_id=999999", headers=admin.headers)
    assert missing.status_code == 404
    invalid = client.get("/api/v1/contacts/export?status=gone", headers=admin.headers)
    assert invalid.status_code == 422
    assert invalid.json()["error"]["details"][0]["field"] == "query.status"
    other = factory.tenant()
    assert _rows(client.get("/api/v1/contacts/export", headers=other.headers).text) == []


def test_export_streams_in_batches(client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    seed_contacts(factory.runtime, admin.tenant_id, [{"phone": us_phone(i)} for i in range(35)])
    monkeypatch.setattr(export, "BATCH_SIZE", 10)
    with client.stream("GET", "/api/v1/contacts/export", headers=admin.headers) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        chunks = [chunk for chunk in response.iter_raw() if chunk]
    # The header, then one chunk per batch of 10: nothing waits for the whole table.
    assert len(chunks) == 5
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 36
    assert [line.split(",")[1] for line in lines[1:]] == [us_phone(i) for i in range(35)]
