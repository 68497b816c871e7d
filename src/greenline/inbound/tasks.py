"""Jobs of the inbound pipeline (scale mode; embedded mode uses the processor thread)."""

from __future__ import annotations

from typing import Any

from greenline.core.jobs import registry
from greenline.core.runtime import get_runtime
from greenline.inbound.service import process_pending, wake_processor


@registry.job("inbound.process", queue="inbound")
def process_inbound(**_: Any) -> int:
    """Apply stored provider events until none are left; returns how many were applied."""
    runtime = get_runtime()
    if not runtime.settings.scale_mode:
        # Embedded mode: the processor thread does the work; a second consumer would only compete with it.
        wake_processor(runtime)
        return 0
    total = 0
    while (done := process_pending(runtime)) > 0:
        total += done
    return total


# A sweep catches anything whose wake-up was lost (e.g. a worker restarting mid-batch).
registry.every(5.0, "inbound.process")
