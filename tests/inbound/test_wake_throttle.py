"""Scale mode wakes the Celery processor once per gather interval, not once per committed batch."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from greenline.core.counters import MemoryCounters
from greenline.core.db import Database
from greenline.core.runtime import Runtime, build_runtime
from greenline.inbound.service import GATHER_SECONDS, Throttled, event_store
from greenline.models import ChannelType
from tests.conftest import REDIS_URL, make_settings, truncate_all
from tests.inbound.helpers import eventually, status
from tests.webhooks.helpers import RecordingRunner


def test_calls_inside_an_interval_share_one_run_at_its_end() -> None:
    runs: list[float] = []
    throttled = Throttled(lambda: runs.append(time.monotonic()), 0.2)
    first = time.monotonic()
    for _ in range(50):
        throttled()
    last_call = time.monotonic()
    assert len(runs) == 1  # the first call runs at once
    assert runs[0] >= first
    eventually(lambda: len(runs) == 2)  # one deferred run for the other 49
    assert runs[1] >= last_call
    assert runs[1] - runs[0] >= 0.2 - 0.01
    time.sleep(0.5)
    assert len(runs) == 2
    throttled()  # a quiet interval later: at once again
    assert len(runs) == 3


class TimedRunner(RecordingRunner):
    """Records each submitted job with the time it was submitted."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        super().submit(name, kwargs)
        self.times.append(time.monotonic())


@pytest.fixture
def scale_runtime(database: Database, db_url: str) -> Iterator[tuple[Runtime, TimedRunner]]:
    truncate_all(db_url)
    runner = TimedRunner()
    settings = make_settings(db_url, redis_url=REDIS_URL)  # scale mode; jobs are recorded, not sent to Celery
    rt = build_runtime(settings, runner, MemoryCounters(), database)
    yield rt, runner
    rt.stop_services()


def test_scale_mode_wakes_the_processor_once_per_interval_during_a_burst(
    scale_runtime: tuple[Runtime, TimedRunner],
) -> None:
    runtime, runner = scale_runtime
    store = event_store(runtime)
    started = time.monotonic()
    for i in range(40):  # 40 commits, one event each
        store.ingest_sync(ChannelType.cloud, status(f"wamid.burst.{i}", "delivered", "16505551234"))
    last_commit = time.monotonic()
    # The last event does not wait for the 5-second sweep: a wake follows it.
    eventually(lambda: runner.times and runner.times[-1] >= last_commit)
    assert {name for name, _ in runner.jobs} == {"inbound.process"}
    intervals = (max(runner.times) - started) / GATHER_SECONDS
    assert len(runner.jobs) <= intervals + 2  # one per interval at most, not one per commit
