"""Uploads that are too large, of the wrong type, malformed or badly mapped get a clear 4xx and leave nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenline.imports import detect
from greenline.imports import upload as upload_module
from tests.factories import Factory
from tests.imports.helpers import URL, upload, wait_done
from tests.imports.messy import to_xlsx

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def test_too_large_upload_is_413_and_leaves_no_file(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch, upload_dir: Path
) -> None:
    monkeypatch.setattr(upload_module, "MAX_UPLOAD_BYTES", 1000)
    admin = factory.tenant()
    content = b"phone\n" + b"+14155550100\n" * 500

    response = upload(client, admin, content)

    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    assert "MB upload limit" in _error(response)["message"]
    assert [p for p in upload_dir.rglob("*") if p.is_file()] == []
    assert client.get("/api/v1/contacts/imports/", headers=admin.headers).json()["items"] == []


def test_declared_length_over_the_limit_is_refused_before_reading(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_module, "MAX_UPLOAD_BYTES", 10)
    admin = factory.tenant()
    body = b"--xyz\r\n" + b"a" * 2_000_000 + b"\r\n--xyz--\r\n"
    headers = {**admin.headers, "content-type": "multipart/form-data; boundary=xyz"}
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("content", "filename", "status", "words"),
    [
        pytest.param(PNG, "contacts.csv", 415, "PNG", id="png"),
        pytest.param(b"%PDF-1.7\n...", "contacts.pdf", 415, "PDF", id="pdf"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32, "old.xls", 415, ".xls", id="xls"),
        pytest.param(b"phone\x00\x01\x02\x03binary", "data.csv", 415, "binary", id="nul-bytes"),
        pytest.param(b"", "empty.csv", 422, "empty", id="empty"),
        pytest.param(b"\xef\xbb\xbf \r\n\r\n", "blank.csv", 422, "empty", id="bom-and-blank-lines"),
        pytest.param(b"phone,name\r\n", "header.csv", 422, "no data rows", id="header-only"),
        pytest.param(b"PK\x03\x04broken", "broken.xlsx", 422, "XLSX", id="broken-zip"),
    ],
)
def test_wrong_or_malformed_files_are_refused(
    client: TestClient, factory: Factory, upload_dir: Path, content: bytes, filename: str, status: int, words: str
) -> None:
    admin = factory.tenant()
    response = upload(client, admin, content, filename)
    assert response.status_code == status, response.text
    assert words in _error(response)["message"]
    assert [p for p in upload_dir.rglob("*") if p.is_file()] == []


def test_zip_that_is_not_a_workbook_is_415(client: TestClient, factory: Factory) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    response = upload(client, factory.tenant(), buffer.getvalue(), "contacts.zip")
    assert response.status_code == 415
    assert "not an XLSX" in _error(response)["message"]


def test_request_shapes_are_checked(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    as_json = client.post(URL, json={"file": "phone\n+1415"}, headers=admin.headers)
    assert as_json.status_code == 415
    no_file = client.post(URL, data={"policy": "skip"}, files={"x": (None, "1")}, headers=admin.headers)
    assert no_file.status_code == 422
    truncated = client.post(
        URL,
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nphone\n+14155550100\n',
        headers={**admin.headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert truncated.status_code == 422
    assert _error(truncated)["details"][0]["field"] == "body"
    unknown = upload(client, admin, b"phone\n+14155550100\n", colour="blue")
    assert unknown.status_code == 422
    assert _error(unknown)["details"][0]["field"] == "colour"
    two_files = client.post(
        URL,
        files=[("file", ("a.csv", b"phone\n+14155550100\n")), ("file", ("b.csv", b"phone\n+14155550101\n"))],
        headers=admin.headers,
    )
    assert two_files.status_code == 422


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        pytest.param({"mapping": {"phone": "phone", "state": "status"}}, "mapping.state", "never", id="status"),
        pytest.param({"mapping": {"phone": "phone", "nope": "name"}}, "mapping.nope", "not a column", id="column"),
        pytest.param({"mapping": {"name": "name"}}, "mapping", "exactly one column to phone", id="no-phone"),
        pytest.param({"mapping": {"phone": "phone", "name": "phone"}}, "mapping.name", "two columns", id="2-phones"),
        pytest.param({"mapping": {"phone": "phone", "name": "nickname"}}, "mapping.name", "unknown target", id="x"),
        pytest.param({"mapping": {"phone": "phone", "name": "custom.a b"}}, "mapping.name", "custom", id="key"),
        pytest.param({"mapping": "[1, 2"}, "mapping", "JSON object", id="bad-json"),
        pytest.param({"policy": "overwrite"}, "policy", "", id="policy"),
        pytest.param({"encoding": "rot13"}, "encoding", "text encoding", id="encoding"),
        pytest.param({"encoding": "klingon"}, "encoding", "text encoding", id="unknown-encoding"),
        pytest.param({"delimiter": "x"}, "delimiter", "", id="delimiter"),
        pytest.param({"default_tags": ["ok", "bad;tag"]}, "default_tags.1", "", id="tag"),
        pytest.param({"start": "maybe"}, "start", "", id="start"),
    ],
)
def test_bad_options_are_422_naming_the_field(
    client: TestClient, factory: Factory, upload_dir: Path, fields: dict[str, Any], field: str, words: str
) -> None:
    admin = factory.tenant()
    response = upload(client, admin, b"phone,name,state\n+14155550100,Ann,active\n", **fields)
    assert response.status_code == 422, response.text
    assert _error(response)["details"][0]["field"] == field
    assert words in _error(response)["message"]
    assert [p for p in upload_dir.rglob("*") if p.is_file()] == []


def test_start_validates_the_mapping_too(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = upload(client, admin, b"phone,Status\n+14155550100,active\n").json()
    assert created["suggested_mapping"] == {"phone": "phone", "Status": "custom.status"}
    url = f"/api/v1/contacts/imports/{created['id']}/start"
    bad = client.post(url, json={"mapping": {"phone": "phone", "Status": "status"}}, headers=admin.headers)
    assert bad.status_code == 422
    assert _error(bad)["details"][0]["field"] == "mapping.Status"
    unknown = client.post(url, json={"colour": "blue"}, headers=admin.headers)
    assert unknown.status_code == 422
    assert client.get(f"/api/v1/contacts/imports/{created['id']}", headers=admin.headers).json()["status"] == "uploaded"


def test_other_tenants_imports_are_not_found(client: TestClient, factory: Factory) -> None:
    a, b = factory.tenant(), factory.tenant()
    created = upload(client, a, b"phone\n+14155550100\n").json()
    base = f"/api/v1/contacts/imports/{created['id']}"
    assert client.get(base, headers=b.headers).status_code == 404
    assert client.get(f"{base}/errors", headers=b.headers).status_code == 404
    assert client.get(f"{base}/errors.csv", headers=b.headers).status_code == 404
    assert client.post(f"{base}/start", json={}, headers=b.headers).status_code == 404
    assert client.post(f"{base}/cancel", headers=b.headers).status_code == 404
    assert client.get(base, headers=a.headers).json()["status"] == "uploaded"


def test_workbook_that_unpacks_too_large_is_413(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detect, "MAX_XLSX_UNPACKED_BYTES", 1000)
    response = upload(client, factory.tenant(), to_xlsx([["phone"], ["+14155550100"]]), "contacts.xlsx")
    assert response.status_code == 413
    assert "save it as CSV" in _error(response)["message"]


def test_start_needs_no_body(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = upload(client, admin, b"mobile;nome\n+55 11 91234-5678;Ana\n").json()
    assert created["delimiter"] == ";"
    started = client.post(f"/api/v1/contacts/imports/{created['id']}/start", headers=admin.headers)
    assert started.status_code == 200, started.text
    assert started.json()["mapping"] == {"mobile": "phone", "nome": "name"}
    assert wait_done(client, admin, created["id"])["created_count"] == 1
