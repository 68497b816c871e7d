"""Counters behave the same in memory and in Redis; in scale mode limits hold across replicas."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from greenline.app import create_app
from greenline.core.counters import Counters, MemoryCounters, PendingMeter, RedisCounters
from greenline.core.db import Database
from greenline.core.jobs import InProcessRunner, registry
from greenline.core.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import Factory


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> Counters:
    if request.param == "memory":
        return MemoryCounters()
    redis_url: str = request.getfixturevalue("redis_url")
    return RedisCounters(redis_url, prefix=f"test:{uuid.uuid4().hex}:")


def test_hit_peek_reset(counters: Counters) -> None:
    assert counters.peek("k") == (0, 0)
    assert counters.hit("k", 60)[0] == 1
    count, ttl = counters.hit("k", 60, amount=4)
    assert count == 5
    assert 0 < ttl <= 60
    assert counters.peek("k")[0] == 5
    counters.reset("k")
    assert counters.peek("k") == (0, 0)


def test_pending_totals_drain_atomically(counters: Counters) -> None:
    meter = PendingMeter(counters, "bucket")
    meter.add("a", 2)
    meter.add("a", 3)
    meter.add("b")
    assert counters.read_pending("bucket") == {}
    meter.push()
    assert counters.read_pending("bucket") == {"a": 5, "b": 1}
    assert counters.drain_pending("bucket") == {"a": 5, "b": 1}
    assert counters.drain_pending("bucket") == {}


def test_api_key_limit_holds_across_two_replicas(
    factory: Factory, runtime: Runtime, database: Database, redis_url: str
) -> None:
    admin = factory.tenant()
    key = factory.api_key(admin, rate_limit=4)
    settings = make_settings(runtime.settings.database_url, redis_url=redis_url)
    shared_prefix = f"test:{uuid.uuid4().hex}:"
    replicas = []
    for _ in range(2):
        rt = build_runtime(
            settings, InProcessRunner(registry, run_schedules=False), RedisCounters(redis_url, shared_prefix), database
        )
        replicas.append(TestClient(create_app(settings, rt)))
    statuses = [replicas[i % 2].get("/api/v1/auth/me", headers=key.headers).status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    health = replicas[0].get("/api/v1/health/health").json()
    assert health["redis"] == "ok"
    assert health["mode"] == "scale"
