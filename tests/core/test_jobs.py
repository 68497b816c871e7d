"""The jobs core: enqueue after commit only, the in-process runner, and a real Celery worker."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from sqlalchemy import select

from greenline.core.counters import PendingMeter, RedisCounters
from greenline.core.db import unscoped
from greenline.core.jobs import CeleryRunner, InProcessRunner, JobRegistry, enqueue, registry
from greenline.core.runtime import USAGE_BUCKET, Runtime
from greenline.models import Tenant, UsageRecord
from greenline.usage import service as usage
from tests.conftest import TEST_SECRET

calls: list[dict[str, Any]] = []
ran = threading.Event()


@registry.job("tests.record_call")
def _record_call(**kwargs: Any) -> None:
    calls.append(kwargs)
    ran.set()


def test_jobs_are_submitted_only_after_commit(runtime: Runtime) -> None:
    calls.clear()
    ran.clear()
    runtime.runner.start()
    with runtime.session() as session:
        enqueue(session, "tests.record_call", tenant_id=1, value="rolled back")
        session.rollback()
    with runtime.session() as session:
        enqueue(session, "tests.record_call", tenant_id=1, value="committed")
        assert calls == []  # nothing runs inside the transaction
        session.commit()
    assert ran.wait(5)
    assert calls == [{"tenant_id": 1, "value": "committed"}]


def test_unknown_job_is_refused_at_enqueue(runtime: Runtime) -> None:
    with runtime.session() as session, pytest.raises(KeyError):
        enqueue(session, "nobody.knows")


def test_in_process_runner_runs_schedules() -> None:
    jobs = JobRegistry()
    seen = threading.Event()
    jobs.job("tests.tick")(lambda **_: seen.set())
    jobs.every(0.1, "tests.tick")
    runner = InProcessRunner(jobs)
    runner.start()
    try:
        assert seen.wait(5)
    finally:
        runner.stop()


@pytest.fixture
def celery_worker(runtime: Runtime, redis_url: str) -> Iterator[subprocess.Popen[bytes]]:
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "GREENLINE_ENVIRONMENT": "test",
        "GREENLINE_SECRET_KEY": TEST_SECRET,
        "GREENLINE_DATABASE_URL": runtime.settings.database_url,
        "GREENLINE_REDIS_URL": redis_url,
        "GREENLINE_LOG_LEVEL": "INFO",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "greenline.cli", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.slow
def test_real_celery_worker_runs_a_job_against_the_database(
    runtime: Runtime, redis_url: str, celery_worker: subprocess.Popen[bytes]
) -> None:
    with runtime.task_session() as session, unscoped(session):
        tenant = Tenant(name="Celery Co", slug="celery-co")
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    # An API replica in scale mode buffers usage and pushes it to Redis...
    meter = PendingMeter(RedisCounters(redis_url), USAGE_BUCKET)
    usage.record(meter, tenant_id, "api_calls", 42, day=dt.date(2026, 3, 1))
    meter.push()
    # ...and the flush job runs on a separate Celery worker process.
    CeleryRunner(registry, Celery("greenline", broker=redis_url)).submit("usage.flush", {})

    deadline = time.monotonic() + 60
    row = None
    while time.monotonic() < deadline and row is None:
        if celery_worker.poll() is not None:
            output = celery_worker.stdout.read().decode() if celery_worker.stdout else ""
            pytest.fail(f"worker exited early:\n{output[-3000:]}")
        with runtime.db.session(tenant_id) as session:
            row = session.scalars(select(UsageRecord)).first()
        time.sleep(0.2)
    assert row is not None, "the Celery worker never flushed the usage"
    assert row.api_calls == 42
    assert row.date == dt.date(2026, 3, 1)
