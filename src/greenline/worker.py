"""Celery application for scale mode: every registered job becomes a task; schedules go to beat."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from greenline.config import get_settings
from greenline.core.jobs import registry
from greenline.core.logging import configure_logging


def _make_celery() -> Celery:
    from greenline.wiring import load_tasks

    settings = get_settings()
    load_tasks()
    app = Celery("greenline", broker=settings.redis_url or "redis://127.0.0.1:6379/0")
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="default",
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule={
            f"{schedule.job}-every-{schedule.every_seconds:g}s": {
                "task": schedule.job,
                "schedule": schedule.every_seconds,
                "kwargs": schedule.kwargs,
                "options": {"queue": registry.jobs[schedule.job].queue},
            }
            for schedule in registry.schedules
        },
    )
    for name in registry.jobs:
        app.task(name=name, bind=False)(_make_task_body(name))
    return app


def _make_task_body(name: str) -> Any:
    def run(**kwargs: Any) -> Any:
        return registry.run(name, kwargs)

    run.__name__ = name.replace(".", "_")
    return run


celery_app = _make_celery()


@worker_process_init.connect
def _init_worker_process(**_: Any) -> None:
    # Each worker process gets its own runtime (engine, Redis clients); jobs it enqueues go to Celery.
    from greenline.wiring import make_runtime

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    make_runtime(settings)


def init_in_this_process() -> None:
    """For the solo/threads pools, where worker_process_init does not fire."""
    _init_worker_process()
