"""One registry of background jobs and schedules, with two runners.

Embedded mode runs jobs on threads inside the server process; scale mode sends
them to Celery workers through Redis (see `greenline.worker`). Jobs are always
enqueued after the surrounding transaction commits, never from inside it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

from greenline.core.metrics import JOB_SECONDS, JOBS

log = structlog.get_logger(__name__)

JobFn = Callable[..., Any]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFn
    queue: str = "default"


@dataclass(frozen=True)
class Schedule:
    job: str
    every_seconds: float
    kwargs: dict[str, Any] = field(default_factory=dict)


class JobRegistry:
    def __init__(self) -> None:
        self.jobs: dict[str, JobSpec] = {}
        self.schedules: list[Schedule] = []

    def job(self, name: str, queue: str = "default") -> Callable[[JobFn], JobFn]:
        """Register a function as the job `<domain>.<event>`; arguments must be primitives."""

        def decorate(fn: JobFn) -> JobFn:
            if name in self.jobs:
                raise ValueError(f"job {name} registered twice")
            self.jobs[name] = JobSpec(name, fn, queue)
            return fn

        return decorate

    def every(self, seconds: float, job: str, **kwargs: Any) -> None:
        self.schedules.append(Schedule(job, seconds, kwargs))

    def run(self, name: str, kwargs: dict[str, Any]) -> Any:
        """Run a job in this process, recording its outcome."""
        spec = self.jobs[name]
        started = time.perf_counter()
        try:
            result = spec.fn(**kwargs)
        except Exception:
            JOBS.labels(name, "error").inc()
            log.exception("job.failed", job=name)
            raise
        finally:
            JOB_SECONDS.labels(name).observe(time.perf_counter() - started)
        JOBS.labels(name, "ok").inc()
        return result


registry = JobRegistry()


class Runner(Protocol):
    def submit(self, name: str, kwargs: dict[str, Any]) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class InProcessRunner:
    """Embedded-mode runner: a small thread pool plus a scheduler thread for periodic jobs."""

    def __init__(self, jobs: JobRegistry, workers: int = 4, run_schedules: bool = True) -> None:
        self.jobs = jobs
        self.run_schedules = run_schedules
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        if name not in self.jobs.jobs:
            raise KeyError(f"unknown job {name}")
        if self._pool is None:
            self.start()
        assert self._pool is not None
        self._pool.submit(self._run_quietly, name, kwargs)

    def _run_quietly(self, name: str, kwargs: dict[str, Any]) -> None:
        # Failures are logged and counted by `run`; a failing job never kills the pool.
        with contextlib.suppress(Exception):
            self.jobs.run(name, kwargs)

    def start(self) -> None:
        if self._pool is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="greenline-job")
        if self.run_schedules and self.jobs.schedules:
            self._thread = threading.Thread(target=self._schedule_loop, name="greenline-beat", daemon=True)
            self._thread.start()

    def _schedule_loop(self) -> None:
        next_run = {i: time.monotonic() + s.every_seconds for i, s in enumerate(self.jobs.schedules)}
        while not self._stop.wait(0.2):
            now = time.monotonic()
            for i, schedule in enumerate(self.jobs.schedules):
                if now >= next_run[i]:
                    next_run[i] = now + schedule.every_seconds
                    self.submit(schedule.job, dict(schedule.kwargs))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class CeleryRunner:
    """Scale-mode runner: hands jobs to Celery workers through the Redis broker."""

    def __init__(self, jobs: JobRegistry, celery_app: Any) -> None:
        self.jobs = jobs
        self.celery = celery_app

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        spec = self.jobs.jobs[name]
        self.celery.send_task(name, kwargs=kwargs, queue=spec.queue)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


# --- enqueue after commit ------------------------------------------------------

_PENDING = "greenline.pending_jobs"
_RUNNER = "greenline.runner"


def attach_runner(session: Session, runner: Runner) -> None:
    session.info[_RUNNER] = runner


def enqueue(session: Session, name: str, **kwargs: Any) -> None:
    """Queue a job to be submitted when this session commits (dropped on rollback)."""
    if name not in registry.jobs:
        raise KeyError(f"unknown job {name}")
    session.info.setdefault(_PENDING, []).append((name, kwargs))


@event.listens_for(Session, "after_commit")
def _submit_pending(session: Session) -> None:
    pending: list[tuple[str, dict[str, Any]]] = session.info.pop(_PENDING, [])
    runner: Runner | None = session.info.get(_RUNNER)
    if pending and runner is None:
        log.error("job.no_runner", jobs=[name for name, _ in pending])
        return
    for name, kwargs in pending:
        assert runner is not None
        runner.submit(name, kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, _: Any) -> None:
    session.info.pop(_PENDING, None)
