"""A runtime that knows Meta's app secret and verify token, and a client on it (the inbound tests' fixtures)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from greenline.app import create_app
from greenline.core.counters import MemoryCounters
from greenline.core.db import Database
from greenline.core.jobs import InProcessRunner, registry
from greenline.core.runtime import Runtime, build_runtime, set_runtime
from tests.conftest import make_settings, truncate_all
from tests.factories import Factory
from tests.inbound.helpers import APP_SECRET, VERIFY_TOKEN


@pytest.fixture
def wa_runtime(database: Database, db_url: str) -> Iterator[Runtime]:
    truncate_all(db_url)
    settings = make_settings(db_url, whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY_TOKEN)
    rt = build_runtime(settings, InProcessRunner(registry, run_schedules=False), MemoryCounters(), database)
    set_runtime(rt)
    yield rt
    rt.stop_services()
    rt.runner.stop()
    set_runtime(None)


@pytest.fixture
def wa(wa_runtime: Runtime) -> Iterator[tuple[TestClient, Factory]]:
    with TestClient(create_app(wa_runtime.settings, wa_runtime), raise_server_exceptions=False) as client:
        yield client, Factory(client, wa_runtime)
