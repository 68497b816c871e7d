"""The dashboard is served by the API process: index.html for browser page requests, the API untouched.

The browser suite itself lives in web/e2e (Playwright, run by `make test-web`); this checks the serving rules
against a stand-in build so it runs with the rest of the Python suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from greenline import webui
from greenline.app import create_app
from greenline.core.runtime import Runtime

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INDEX = "<!doctype html><title>Greenline</title><div id=root></div>"


def _client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.settings, runtime), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def ui_client(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "app-1234.js").write_text("console.log('hi')")
    monkeypatch.setattr(webui, "WEB_DIST", tmp_path)
    yield from _client(runtime)


@pytest.fixture
def bare_client(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(webui, "WEB_DIST", tmp_path / "missing")
    yield from _client(runtime)


def test_browsers_get_the_app_on_root_and_client_side_routes(ui_client: TestClient) -> None:
    for path in ("/", "/contacts", "/inbox/42", "/settings/api-keys"):
        response = ui_client.get(path, headers=BROWSER)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"
    asset = ui_client.get("/assets/app-1234.js", headers=BROWSER)
    assert asset.status_code == 200
    assert asset.text == "console.log('hi')"


def test_api_and_tools_keep_their_answers(ui_client: TestClient) -> None:
    assert ui_client.get("/").json()["name"] == "Greenline"
    assert ui_client.get("/api/v1/health/health").json()["status"] == "ok"
    missing = ui_client.get("/api/v1/nowhere", headers=BROWSER)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "swagger" in ui_client.get("/docs", headers=BROWSER).text.lower()
    assert ui_client.get("/openapi.json", headers=BROWSER).json()["info"]["title"] == "Greenline API"
    assert ui_client.get("/assets/nothing.js").status_code == 404
    assert ui_client.post("/contacts", headers=BROWSER).status_code in (404, 405)


def test_without_a_build_the_api_answers_as_before(bare_client: TestClient) -> None:
    root = bare_client.get("/", headers=BROWSER)
    assert root.status_code == 200
    assert root.json()["name"] == "Greenline"
    assert bare_client.get("/contacts", headers=BROWSER).status_code == 404
