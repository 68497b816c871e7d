"""Test harness: one migrated database per run (SQLite or PostgreSQL), a fresh app per test.

`GREENLINE_TEST_BACKEND=sqlite|postgres` picks the engine (the Makefile runs both).
Tests commit for real through the API; each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from greenline.app import create_app
from greenline.config import Settings, get_settings
from greenline.core import migrate
from greenline.core.counters import MemoryCounters
from greenline.core.db import Base, Database
from greenline.core.jobs import InProcessRunner, registry
from greenline.core.runtime import Runtime, build_runtime, set_runtime
from greenline.wiring import load_tasks
from tests.factories import Factory

BACKEND = os.environ.get("GREENLINE_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("GREENLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GREENLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"


def _unreachable(what: str, error: Exception) -> None:
    message = f"{what} is unreachable: {error}"
    if IN_CI:
        pytest.exit(message, returncode=1)
    pytest.skip(message, allow_module_level=True)


def database_url(tmp_root: Path) -> str:
    if BACKEND == "postgres":
        return PG_URL
    return f"sqlite:///{tmp_root / 'greenline-test.db'}"


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": url,
        "secret_key": TEST_SECRET,
        "log_json": True,
        "log_level": "WARNING",
        "redis_url": None,
        # Cheap hashing keeps the suite fast; production cost is the default.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def reset_schema(url: str) -> None:
    """Drop everything so the migrations build the schema from nothing."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL test database if it does not exist (lets parallel runs use their own)."""
    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = database_url(tmp_path_factory.mktemp("db"))
    if BACKEND == "postgres":
        try:
            ensure_database(url)
        except Exception as exc:  # noqa: BLE001
            _unreachable("PostgreSQL", exc)
    reset_schema(url)
    migrate.upgrade(make_settings(url))
    return url


@pytest.fixture(scope="session")
def database(db_url: str) -> Iterator[Database]:
    load_tasks()
    db = Database(make_settings(db_url))
    yield db
    db.dispose()


def truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def runtime(settings: Settings, database: Database, db_url: str) -> Iterator[Runtime]:
    get_settings.cache_clear()
    truncate_all(db_url)
    rt = build_runtime(settings, InProcessRunner(registry, run_schedules=False), MemoryCounters(), database)
    set_runtime(rt)
    yield rt
    rt.stop_services()
    rt.runner.stop()
    set_runtime(None)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime.settings, runtime)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def factory(client: TestClient, runtime: Runtime) -> Factory:
    return Factory(client, runtime)


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # noqa: BLE001
        _unreachable("Redis", exc)
    return REDIS_URL


@pytest.fixture(autouse=True)
def _uploads_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import uploads go to the test's temporary directory, not ./var/imports."""
    monkeypatch.setattr("greenline.imports.upload.UPLOAD_DIR", tmp_path / "imports")
