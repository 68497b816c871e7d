from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.models import UsageRecord
from greenline.usage import service
from tests.factories import Factory


def test_api_calls_are_counted_per_tenant_and_flushed_in_batches(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    a = factory.tenant()
    b = factory.tenant()
    for _ in range(5):
        client.get("/api/v1/auth/me", headers=a.headers)
    client.get("/api/v1/auth/me", headers=b.headers)
    # Nothing is written per request: the counts wait in memory until the flush job runs.
    with runtime.db.session() as session, unscoped(session):
        assert session.scalars(select(UsageRecord)).all() == []

    assert runtime.runner is not None
    from greenline.core.jobs import registry

    assert registry.run("usage.flush", {}) >= 2
    with runtime.db.session() as session, unscoped(session):
        rows = {r.tenant_id: r.api_calls for r in session.scalars(select(UsageRecord))}
    # The factory's own /auth/me call after login counts too.
    assert rows[a.tenant_id] == 6
    assert rows[b.tenant_id] == 2

    stats = client.get(f"/api/v1/tenants/{a.tenant_id}/usage/stats", headers=a.headers).json()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert stats["days"][-1]["date"] == today
    # Stats include counts not flushed yet (this request's predecessors).
    assert stats["total_api_calls"] >= 6


def test_flush_adds_to_existing_rows(runtime: Runtime, factory: Factory) -> None:
    a = factory.tenant()
    assert a.tenant_id is not None
    day = dt.date(2026, 1, 2)
    for amount in (3, 4):
        service.record(runtime.meter, a.tenant_id, "messages_sent", amount, day=day)
        runtime.meter.push()
        with runtime.task_session() as session:
            service.flush_pending(session, runtime.counters)
    with runtime.db.session(a.tenant_id) as session:
        row = session.scalars(select(UsageRecord).where(UsageRecord.date == day)).one()
    assert row.messages_sent == 7


def test_usage_stats_range_is_validated(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    url = f"/api/v1/tenants/{a.tenant_id}/usage/stats"
    assert client.get(url, params={"start": "2026-02-01", "end": "2026-01-01"}, headers=a.headers).status_code == 422
    assert client.get(url, params={"start": "not-a-date"}, headers=a.headers).status_code == 422
    ok = client.get(url, params={"start": "2026-01-01", "end": "2026-01-31"}, headers=a.headers)
    assert ok.status_code == 200
    assert ok.json()["days"] == []
