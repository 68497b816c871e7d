"""Periodic flush of buffered usage counts into `usage_records`."""

from __future__ import annotations

from typing import Any

from greenline.core.jobs import registry
from greenline.core.runtime import get_runtime
from greenline.usage import service


@registry.job("usage.flush")
def flush_usage(**_: Any) -> int:
    """Move pending usage counts into the database; returns the tenant-days written."""
    runtime = get_runtime()
    runtime.meter.push()
    with runtime.task_session() as session:
        return service.flush_pending(session, runtime.counters)


registry.every(10.0, "usage.flush")
