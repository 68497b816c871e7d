"""The process-wide runtime: settings, database, counters, job runner and secret box."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from greenline.config import Settings
from greenline.core.counters import (
    Counters,
    MemoryCounters,
    PendingMeter,
    PostgresCounters,
    RedisCounters,
)
from greenline.core.crypto import SecretBox
from greenline.core.db import Database
from greenline.core.jobs import Runner, attach_runner
from greenline.core.security import configure_password_hashing


@dataclass
class Runtime:
    settings: Settings
    db: Database
    counters: Counters
    runner: Runner
    secrets: SecretBox
    meter: PendingMeter
    # Process-wide singletons owned by domains (e.g. the simulated WhatsApp network).
    services: dict[str, Any] = field(default_factory=dict)

    def session(self, tenant_id: int | None = None) -> Session:
        session = self.db.session(tenant_id)
        attach_runner(session, self.runner)
        return session

    @contextmanager
    def task_session(self, tenant_id: int | None = None) -> Iterator[Session]:
        """One unit of work for a job: commit on success, roll back on error, jobs after commit."""
        session = self.session(tenant_id)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def stop_services(self) -> None:
        """Stop domain singletons (simulator threads, inbound writer and processor), newest first."""
        for name in reversed(list(self.services)):
            service = self.services.pop(name)
            stop = getattr(service, "stop", None) or getattr(service, "close", None)
            if callable(stop):
                stop()

    def close(self) -> None:
        self.stop_services()
        self.runner.stop()
        close_counters = getattr(self.counters, "close", None)
        if callable(close_counters):
            close_counters()
        self.db.dispose()


def make_counters(settings: Settings) -> Counters:
    """Redis in scale mode; PostgreSQL when the embedded server runs several processes on it; else memory."""
    if settings.redis_url:
        return RedisCounters(settings.redis_url)
    if settings.is_postgres:
        url = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresCounters.for_url(url, settings.db_app_role)
    return MemoryCounters()


USAGE_BUCKET = "usage:pending"


def build_runtime(
    settings: Settings, runner: Runner, counters: Counters | None = None, db: Database | None = None
) -> Runtime:
    counters = counters or make_counters(settings)
    configure_password_hashing(settings.argon2_time_cost, settings.argon2_memory_kib)
    return Runtime(
        settings=settings,
        db=db or Database(settings),
        counters=counters,
        runner=runner,
        secrets=SecretBox(settings),
        meter=PendingMeter(counters, USAGE_BUCKET),
    )


_current: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def get_runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("Greenline runtime is not initialised")
    return _current
