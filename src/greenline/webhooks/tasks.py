"""Background jobs that send tenant webhooks: right after an emit, and a periodic retry sweep."""

from __future__ import annotations

from typing import Any

from greenline.core.jobs import registry
from greenline.core.runtime import get_runtime
from greenline.webhooks import delivery
from greenline.webhooks.service import DELIVER_JOB


@registry.job(DELIVER_JOB, queue="webhooks")
def deliver(tenant_id: int, **_: Any) -> int:
    """Send the tenant's due deliveries; returns the attempts made."""
    return delivery.deliver_due(get_runtime(), tenant_id=tenant_id)


@registry.job("webhooks.retry_due", queue="webhooks")
def retry_due(**_: Any) -> int:
    """Send due deliveries of every tenant (retries, and anything a lost job left behind)."""
    return delivery.deliver_due(get_runtime())


registry.every(5.0, "webhooks.retry_due")
