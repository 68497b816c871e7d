"""Background jobs of the imports domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from greenline.core.db import utcnow
from greenline.core.jobs import registry
from greenline.core.runtime import get_runtime
from greenline.imports.pipeline import run_import
from greenline.imports.service import purge_stale_uploads

UPLOAD_RETENTION = dt.timedelta(days=7)


@registry.job("imports.run", queue="imports")
def run(tenant_id: int, import_id: int) -> str | None:
    """Read, stage and apply one contact import; returns its final status."""
    status = run_import(get_runtime(), tenant_id, import_id)
    return None if status is None else str(status)


@registry.job("imports.purge_uploads", queue="imports")
def purge_uploads(**_: Any) -> int:
    """Remove uploads of imports that did not complete within the retention period; returns files removed."""
    return purge_stale_uploads(get_runtime(), utcnow() - UPLOAD_RETENTION)


registry.every(3600.0, "imports.purge_uploads")
