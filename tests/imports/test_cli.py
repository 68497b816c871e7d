"""`greenline import contacts FILE --tenant ...` runs the same job, with a progress bar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenline.cli import app
from greenline.config import get_settings
from greenline.core.runtime import Runtime, set_runtime
from tests.conftest import TEST_SECRET
from tests.factories import Factory
from tests.imports.helpers import contacts
from tests.imports.messy import messy_file, to_csv


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI on the test database; the test's own runtime is restored afterwards."""
    monkeypatch.setenv("GREENLINE_DATABASE_URL", runtime.settings.database_url)
    monkeypatch.setenv("GREENLINE_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("GREENLINE_ENVIRONMENT", "test")
    monkeypatch.setenv("GREENLINE_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
    set_runtime(runtime)


def test_cli_imports_a_file_with_progress(cli: CliRunner, factory: Factory, tmp_path: Path) -> None:
    admin = factory.tenant()
    slug = factory.client.get(f"/api/v1/tenants/{admin.tenant_id}", headers=admin.headers).json()["slug"]
    messy = messy_file(400, seed=11)
    path = tmp_path / "people.csv"
    path.write_text(to_csv(messy.rows, ";"), encoding="cp1252")

    mapping = ["--mapping", "Phone=phone", "--mapping", "Full Name=name", "--mapping", "E-mail=email"]
    result = cli.invoke(app, ["import", "contacts", str(path), "--tenant", slug, *mapping, "--tag", "cli"])

    assert result.exit_code == 0, result.output
    assert "completed" in result.output
    assert f"{len(messy.valid_e164)} created" in result.output
    assert f"{len(messy.error_rows)} rejected rows" in result.output
    stored = contacts(factory.runtime, admin.tenant_id)
    assert sorted(c.phone for c in stored) == sorted(messy.valid_e164)
    assert all(c.tags[0] == "cli" for c in stored)
    assert path.exists()  # the user's file is copied, never consumed


def test_cli_reports_problems_with_exit_code_1(cli: CliRunner, factory: Factory, tmp_path: Path) -> None:
    admin = factory.tenant()
    path = tmp_path / "people.csv"
    path.write_text("name\nAnn\n")

    unknown = cli.invoke(app, ["import", "contacts", str(path), "--tenant", "no-such-tenant"])
    assert unknown.exit_code == 1
    assert "not found" in unknown.output

    no_phone = cli.invoke(app, ["import", "contacts", str(path), "--tenant", str(admin.tenant_id)])
    assert no_phone.exit_code == 1
    assert "phone" in no_phone.output

    bad_pair = cli.invoke(app, ["import", "contacts", str(path), "--tenant", str(admin.tenant_id), "--mapping", "x"])
    assert bad_pair.exit_code == 2
