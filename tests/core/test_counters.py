"""Counters behave the same in memory, in Redis and in PostgreSQL; shared ones hold limits across processes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from greenline.app import create_app
from greenline.core.counters import Counters, MemoryCounters, PendingMeter, PostgresCounters, RedisCounters
from greenline.core.db import Database
from greenline.core.jobs import InProcessRunner, registry
from greenline.core.runtime import Runtime, build_runtime, make_counters
from tests.conftest import BACKEND, make_settings, truncate_all
from tests.factories import Factory

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="needs the migrated PostgreSQL test database")


def postgres_counters(db_url: str) -> PostgresCounters:
    """As `greenline serve` builds them on PostgreSQL: its own connections, as the application role."""
    counters = make_counters(make_settings(db_url))
    assert isinstance(counters, PostgresCounters)
    return counters


@pytest.fixture(params=["memory", "redis", pytest.param("postgres", marks=postgres_only)])
def counters(request: pytest.FixtureRequest) -> Iterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
    elif request.param == "redis":
        redis_url: str = request.getfixturevalue("redis_url")
        yield RedisCounters(redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    else:
        db_url: str = request.getfixturevalue("db_url")
        truncate_all(db_url)
        shared = postgres_counters(db_url)
        yield shared
        shared.close()


def test_hit_peek_reset(counters: Counters) -> None:
    assert counters.peek("k") == (0, 0)
    assert counters.hit("k", 60)[0] == 1
    count, ttl = counters.hit("k", 60, amount=4)
    assert count == 5
    assert 0 < ttl <= 60
    assert counters.peek("k")[0] == 5
    counters.reset("k")
    assert counters.peek("k") == (0, 0)


def test_a_window_starts_again_after_it_expires(counters: Counters) -> None:
    counters.hit("w", 1, amount=3)
    assert counters.peek("w")[0] == 3
    time.sleep(1.1)
    assert counters.peek("w") == (0, 0)
    assert counters.hit("w", 1) == (1, 1)


def test_concurrent_hits_are_all_counted(counters: Counters) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda _: [counters.hit("c", 60) for _ in range(25)], range(16)))
    assert counters.peek("c")[0] == 400
    if isinstance(counters, PostgresCounters):
        assert len(counters._idle) <= PostgresCounters.MAX_CONNECTIONS  # callers queued, no connection churn


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


@postgres_only
def test_postgres_counters_are_one_quota_for_every_process(
    factory: Factory, runtime: Runtime, database: Database, db_url: str
) -> None:
    """Two web processes on one database (as `serve --workers 2`), each with its own counters object."""
    admin = factory.tenant()
    key = factory.api_key(admin, rate_limit=4)
    settings = make_settings(db_url)
    replicas = []
    for _ in range(2):
        rt = build_runtime(settings, InProcessRunner(registry, run_schedules=False), db=database)
        assert isinstance(rt.counters, PostgresCounters)
        replicas.append((rt, TestClient(create_app(settings, rt))))
    statuses = [replicas[i % 2][1].get("/api/v1/auth/me", headers=key.headers).status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]
    # Usage each process counted and pushed is seen, and flushed, by whichever process runs the job.
    first, second = replicas[0][0], replicas[1][0]
    first.meter.push()
    from_first = sum(second.counters.read_pending("usage:pending").values())
    second.meter.push()
    assert sum(first.counters.read_pending("usage:pending").values()) > from_first >= 2
    for rt, _ in replicas:
        rt.counters.close()  # type: ignore[attr-defined]


@postgres_only
def test_postgres_counters_reconnect_after_the_server_drops_the_connection(db_url: str) -> None:
    truncate_all(db_url)
    counters = postgres_counters(db_url)
    counters.hit("r", 60)
    [idle] = counters._idle
    with psycopg.connect(make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as admin:  # fmt: skip
        admin.execute("SELECT pg_terminate_backend(%s)", (idle.info.backend_pid,))
    assert counters.hit("r", 60)[0] == 2
    counters.close()
