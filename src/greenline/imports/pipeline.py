"""The import job: claim the import, stage the file batch by batch with progress, apply once, record the end.

Progress and cancel checks run in their own short transactions between batches; the
contacts themselves are written only by the single apply transaction (`imports.apply`).
Each run stamps `started_at` as its token, so a duplicate delivery of the job (Celery
redelivers after a lost worker) cannot complete or overwrite a newer run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select, update

from greenline.contacts.phones import tenant_country
from greenline.core.db import utcnow
from greenline.core.runtime import Runtime
from greenline.imports.apply import Finish, ImportCancelled, Outcome, Stage, open_stage
from greenline.imports.normalize import Shaper, Staged, compile_plan
from greenline.imports.parallel import chunked, phone_pool, with_phones
from greenline.imports.reader import FileProblem, open_records
from greenline.models import ContactImport
from greenline.models.enums import ImportStatus, MergePolicy

log = structlog.get_logger(__name__)

BATCH_ROWS = 10_000
MAX_ROWS = 1_000_000
UNEXPECTED = (
    "the import stopped on an unexpected error ({kind}); no contact was written. "
    "Start it again with POST /api/v1/contacts/imports/{id}/start"
)


@dataclass(frozen=True)
class Claimed:
    """Everything the job needs, read once when it takes the import."""

    import_id: int
    tenant_id: int
    token: dt.datetime
    path: Path
    file_format: str
    detected: dict[str, Any]
    mapping: dict[str, str]
    options: dict[str, Any]
    country: str | None
    estimate: int | None
    actor: int | None


def claim(runtime: Runtime, tenant_id: int, import_id: int) -> Claimed | None:
    """Mark a queued import running; None when there is nothing to do (gone, finished or cancelled)."""
    with runtime.task_session(tenant_id) as session:
        item = session.scalar(select(ContactImport).where(ContactImport.id == import_id).with_for_update())
        if item is None or item.status not in (ImportStatus.queued, ImportStatus.running):
            return None
        if item.cancel_requested:
            item.status, item.finished_at = ImportStatus.cancelled, utcnow()
            return None
        token = utcnow()
        item.status, item.started_at, item.finished_at, item.error = ImportStatus.running, token, None, None
        item.processed_rows = item.error_count = 0
        return Claimed(
            import_id=item.id,
            tenant_id=tenant_id,
            token=token,
            path=Path(item.file_path),
            file_format=item.file_format,
            detected=dict(item.detected),
            mapping=dict(item.mapping),
            options=dict(item.options),
            country=tenant_country(session),
            estimate=item.total_rows,
            actor=item.created_by,
        )


def _mine(claimed: Claimed) -> Any:
    return (ContactImport.id == claimed.import_id) & (ContactImport.started_at == claimed.token)


def report_progress(runtime: Runtime, claimed: Claimed, processed: int, errors: int) -> bool:
    """Commit progress in a short transaction of its own; True when the import should stop."""
    total = max(claimed.estimate or 0, processed)
    with runtime.task_session(claimed.tenant_id) as session:
        row = session.execute(
            update(ContactImport)
            .where(_mine(claimed))
            .values(processed_rows=processed, error_count=errors, total_rows=total)
            .returning(ContactImport.cancel_requested)
        ).first()
    return row is None or bool(row[0])


def _close(runtime: Runtime, claimed: Claimed, status: ImportStatus, error: str | None) -> None:
    with runtime.task_session(claimed.tenant_id) as session:
        session.execute(
            update(ContactImport)
            .where(_mine(claimed), ContactImport.status == ImportStatus.running)
            .values(status=status, error=error, finished_at=utcnow(), created_count=0, updated_count=0)
        )


class _Batches:
    """Hands shaped rows to the stage, one batch at a time, with progress and cancel checks."""

    def __init__(self, runtime: Runtime, claimed: Claimed, stage: Stage) -> None:
        self.runtime, self.claimed, self.stage = runtime, claimed, stage
        self.processed = self.errors = 0

    def flush(self, rows: list[Staged]) -> None:
        if not rows:
            return
        self.processed += len(rows)
        self.errors += sum(1 for row in rows if row[13] is not None)
        if self.processed > MAX_ROWS:
            raise FileProblem(f"the file has more than {MAX_ROWS:,} data rows; split it into smaller files")
        self.stage.write(rows)
        if report_progress(self.runtime, self.claimed, self.processed, self.errors):
            raise ImportCancelled()


def stage_and_apply(runtime: Runtime, claimed: Claimed) -> Outcome:
    """Read every row into the stage, then apply them all in one transaction."""
    options = claimed.options
    plan = compile_plan(claimed.detected["columns"], claimed.mapping, list(options.get("default_tags") or []))
    shape = Shaper(plan, claimed.country).shape
    with open_stage(runtime, claimed.tenant_id) as stage, phone_pool(claimed.estimate) as pool:
        batches = _Batches(runtime, claimed, stage)
        with open_records(claimed.path, claimed.file_format, claimed.detected) as records:
            chunks = with_phones(chunked(records, BATCH_ROWS), pool, plan.phone, claimed.country)
            for chunk, phones in chunks:
                if phones is None:
                    shaped = [shape(number, cells) for number, cells in chunk]
                else:
                    shaped = [shape(number, cells, phone) for (number, cells), phone in zip(chunk, phones, strict=True)]
                batches.flush([row for row in shaped if row is not None])
        finish = Finish(
            import_id=claimed.import_id,
            tenant_id=claimed.tenant_id,
            token=claimed.token,
            policy=MergePolicy(options.get("policy") or MergePolicy.skip),
            opt_in_source=options.get("opt_in_source"),
            processed=batches.processed,
            valid=batches.processed - batches.errors,
            actor=claimed.actor,
            detected=claimed.detected,
        )
        return stage.apply(finish)


def run_import(runtime: Runtime, tenant_id: int, import_id: int) -> ImportStatus | None:
    """The whole job; returns the final status (None when the import was not this run's to do)."""
    claimed = claim(runtime, tenant_id, import_id)
    if claimed is None:
        return None
    log.info("import.started", import_id=import_id, tenant_id=tenant_id)
    try:
        if not claimed.path.is_file():
            raise FileProblem("the uploaded file is no longer stored; upload it again")
        outcome = stage_and_apply(runtime, claimed)
    except ImportCancelled:
        _close(runtime, claimed, ImportStatus.cancelled, None)
        log.info("import.cancelled", import_id=import_id, tenant_id=tenant_id)
        return ImportStatus.cancelled
    except FileProblem as exc:
        _close(runtime, claimed, ImportStatus.failed, f"{exc}; no contact was written")
        log.info("import.failed", import_id=import_id, tenant_id=tenant_id, reason=str(exc)[:200])
        return ImportStatus.failed
    except Exception as exc:
        _close(runtime, claimed, ImportStatus.failed, UNEXPECTED.format(kind=type(exc).__name__, id=import_id))
        raise
    with contextlib.suppress(OSError):
        claimed.path.unlink()  # the contacts are in; the upload holds personal data nobody needs any more
    log.info(
        "import.completed",
        import_id=import_id,
        tenant_id=tenant_id,
        created=outcome.created,
        updated=outcome.updated,
        skipped=outcome.skipped,
        errors=outcome.errors,
    )
    return ImportStatus.completed
