"""Builds the runtime for a process: picks the job runner by mode and loads every job."""

from __future__ import annotations

import importlib

from greenline.config import Settings
from greenline.core.jobs import CeleryRunner, InProcessRunner, Runner, registry
from greenline.core.runtime import Runtime, build_runtime, set_runtime

# Every domain's tasks module; importing registers its jobs and schedules.
TASK_MODULES = (
    "greenline.usage.tasks",
    "greenline.imports.tasks",
    "greenline.webhooks.tasks",
    "greenline.channels.sending",
    "greenline.inbound.tasks",
    "greenline.demo_traffic",
    "greenline.campaigns.tasks",
    "greenline.campaigns.hooks",
)


def load_tasks() -> None:
    for module in TASK_MODULES:
        importlib.import_module(module)


def make_runtime(settings: Settings, *, run_schedules: bool = True) -> Runtime:
    """Embedded mode runs jobs on in-process threads; scale mode sends them to Celery."""
    load_tasks()
    runner: Runner
    if settings.scale_mode:
        from greenline.worker import celery_app

        runner = CeleryRunner(registry, celery_app)
    else:
        runner = InProcessRunner(registry, run_schedules=run_schedules)
    runtime = build_runtime(settings, runner)
    set_runtime(runtime)
    return runtime
