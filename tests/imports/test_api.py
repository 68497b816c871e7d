"""Bulk import through the API: messy files in every encoding and layout, exact counts and error reports."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.factories import Factory
from tests.imports.helpers import all_errors, contacts, run_import, upload, wait_done
from tests.imports.messy import Messy, messy_file, to_csv, to_xlsx

MAPPING = {"Phone": "phone", "Full Name": "name", "E-mail": "email", "Tags": "tags", "City": "custom.city"}


@pytest.fixture(scope="module")
def messy() -> Messy:
    return messy_file(3000)


VARIANTS = [
    pytest.param("utf-8", ",", "csv", id="utf8-comma"),
    pytest.param("utf-8-sig", ",", "csv", id="utf8-bom"),
    pytest.param("cp1252", ";", "csv", id="cp1252-semicolon"),
    pytest.param("utf-16", "\t", "csv", id="utf16-tab"),
    pytest.param("utf-8", "|", "csv", id="utf8-pipe"),
    pytest.param(None, None, "xlsx", id="xlsx"),
]


@pytest.mark.parametrize(("encoding", "delimiter", "file_format"), VARIANTS)
def test_messy_file_imports_with_exact_counts(
    client: TestClient,
    factory: Factory,
    messy: Messy,
    encoding: str | None,
    delimiter: str | None,
    file_format: str,
) -> None:
    admin = factory.tenant()
    if file_format == "xlsx":
        content, filename = to_xlsx(messy.rows), "contacts.xlsx"
    else:
        assert encoding is not None
        assert delimiter is not None
        content, filename = to_csv(messy.rows, delimiter).encode(encoding), "contacts.csv"

    done = run_import(client, admin, content, filename, mapping=MAPPING)

    assert done["status"] == "completed", done
    assert done["file_format"] == file_format
    if file_format == "csv":
        assert done["delimiter"] == delimiter
        assert done["encoding"] == {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}.get(encoding or "", done["encoding"])
    assert done["processed_rows"] == done["total_rows"] == messy.data_rows
    assert done["created_count"] == len(messy.valid_e164)
    assert done["updated_count"] == 0
    assert done["skipped_count"] == len(messy.duplicate_rows)
    assert done["duplicate_rows"] == len(messy.duplicate_rows)
    assert done["error_count"] == len(messy.error_rows)
    assert done["percent"] == 100

    stored = contacts(factory.runtime, admin.tenant_id)
    assert sorted(c.phone for c in stored) == sorted(messy.valid_e164)
    assert {c.source for c in stored} == {"import"}
    assert {c.status for c in stored} == {"active"}
    names = {c.name for c in stored}
    assert "Ana Conceição" in names
    assert "Zoë Müller" in names
    assert {c.custom_data.get("city") for c in stored} >= {"São Paulo", "München"}
    by_phone = {c.phone: c for c in stored}
    first = by_phone[messy.valid_e164[0]]
    assert first.country is not None
    assert first.timezone is not None

    errors = all_errors(client, admin, done["id"], limit=50)
    assert [(e["row_number"], e["column"]) for e in errors] == sorted(messy.error_rows.items())


def test_duplicates_keep_the_first_row(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    rows = [["phone", "name"], ["+1 212 555 0199", "First"], ["(212) 555-0199", "Second"], ["2125550199", "Third"]]
    done = run_import(client, admin, to_csv(rows).encode())
    assert (done["created_count"], done["skipped_count"], done["duplicate_rows"]) == (1, 2, 2)
    assert [c.name for c in contacts(factory.runtime, admin.tenant_id)] == ["First"]


def test_non_geographic_numbers_import_without_a_country(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    done = run_import(client, admin, b"phone\n+870 773 111 632\n+800 1234 5678\n")
    assert done["created_count"] == 2, done
    assert {(c.phone, c.country) for c in contacts(factory.runtime, admin.tenant_id)} == {
        ("+870773111632", None),
        ("+80012345678", None),
    }


def test_error_report_downloads_as_csv(client: TestClient, factory: Factory, messy: Messy) -> None:
    admin = factory.tenant()
    done = run_import(client, admin, to_csv(messy.rows).encode(), mapping=MAPPING)

    response = client.get(f"/api/v1/contacts/imports/{done['id']}/errors.csv", headers=admin.headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    report = list(csv.reader(io.StringIO(response.text)))
    assert report[0] == ["row_number", "column", "value", "reason"]
    assert [(int(r[0]), r[1]) for r in report[1:]] == sorted(messy.error_rows.items())
    reasons = {r[3] for r in report[1:]}
    assert "not an email address" in reasons
    assert any("number" in reason or "short" in reason or "length" in reason for reason in reasons)
    position = {"Phone": 0, "E-mail": 2}
    for row_number, column, value, _ in report[1:]:
        assert value == messy.rows[int(row_number) - 1][position[column]]


def test_upload_previews_and_suggests_a_mapping_then_starts(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    rows = [
        ["WhatsApp", "First Name", "Last Name", "Email Address", "Labels", "Birth Date"],
        ["+55 11 91234-5678", "Ana", "Souza", "ana@example.com", "vip", "1990-01-02"],
        ["+44 7911 123456", "Tom", "Hardy", "", "", ""],
    ]
    response = upload(client, admin, to_csv(rows).encode())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "uploaded"
    assert created["columns"] == rows[0]
    assert created["preview"] == rows[1:]
    assert created["has_header"] is True
    assert created["suggested_mapping"] == {
        "WhatsApp": "phone",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email Address": "email",
        "Labels": "tags",
        "Birth Date": "custom.birth_date",
    }
    assert contacts(factory.runtime, admin.tenant_id) == []

    started = client.post(f"/api/v1/contacts/imports/{created['id']}/start", json={}, headers=admin.headers)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "queued"
    done = wait_done(client, admin, created["id"])
    assert done["created_count"] == 2
    ana = next(c for c in contacts(factory.runtime, admin.tenant_id) if c.phone == "+5511912345678")
    assert (ana.name, ana.email, ana.tags) == ("Ana Souza", "ana@example.com", ["vip"])
    assert ana.custom_data == {"birth_date": "1990-01-02"}
    assert (ana.country, ana.language) == ("BR", "pt")

    listed = client.get("/api/v1/contacts/imports/", headers=admin.headers).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]


def test_headerless_file_is_detected_and_mapped_by_position(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    rows = [["Ana", "+5511912345678"], ["Bob", "+14155550100"]]
    created = upload(client, admin, to_csv(rows).encode()).json()
    assert created["has_header"] is False
    assert created["columns"] == ["column_1", "column_2"]
    assert created["suggested_mapping"]["column_2"] == "phone"

    done = run_import(client, admin, to_csv(rows).encode(), mapping={"column_1": "name", "column_2": "phone"})
    assert done["created_count"] == 2


def test_viewer_cannot_import_but_can_follow(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    viewer = factory.member(admin, TenantRole.viewer)
    assert upload(client, viewer, b"phone\n+14155550100\n").status_code == 403
    created = upload(client, admin, b"phone\n+14155550100\n").json()
    assert client.get(f"/api/v1/contacts/imports/{created['id']}", headers=viewer.headers).status_code == 200
    started = client.post(f"/api/v1/contacts/imports/{created['id']}/start", json={}, headers=viewer.headers)
    assert started.status_code == 403
