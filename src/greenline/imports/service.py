"""Bulk contact imports: upload and detect, start, progress, cancel, and the upload retention.

Decision: an import is ALL-OR-NOTHING. The job streams the file into a staging table
(TEMP, private to its connection) and then applies everything to `contacts`, the error
report and the import's final counts in ONE transaction of set-based SQL (`imports.apply`).
So a failed or cancelled import writes no contact at all; there is no "half imported" state
to explain, and a completed import always has its whole error report. Progress (rows read,
errors so far) and cancel checks use separate short transactions between batches, so the API
shows them while the job runs. The cost is one long transaction per import on PostgreSQL
(it holds locks only on the rows it writes, at the very end) and, on SQLite, the database
write lock for the duration of the apply step. Restarting a failed or cancelled import
(`start` again) re-reads the stored file from scratch.

Lifecycle: uploaded -> queued -> running -> completed | failed | cancelled; failed and
cancelled imports (and uploaded ones) can be started again while their file is kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from greenline.contacts.phones import tenant_country
from greenline.core.db import unscoped, utcnow
from greenline.core.errors import Conflict, InvalidInput, NotFound
from greenline.core.jobs import enqueue
from greenline.core.pagination import Page, keyset_page, split_page
from greenline.core.principal import Principal
from greenline.core.runtime import Runtime
from greenline.imports.detect import detect, sniff_format
from greenline.imports.mapping import validate_mapping
from greenline.imports.reader import estimate_rows
from greenline.imports.schemas import ImportOut, ImportSettings, ImportSummary, UploadForm
from greenline.imports.upload import StoredUpload
from greenline.models import ContactImport, ContactImportError
from greenline.models.enums import ImportStatus, MergePolicy

JOB = "imports.run"
RESTARTABLE = (ImportStatus.uploaded, ImportStatus.failed, ImportStatus.cancelled)
READ_OPTIONS = ("encoding", "delimiter", "has_header")


def parse_form(fields: dict[str, str]) -> UploadForm:
    """The upload's text fields: `mapping` is a JSON object, `default_tags` a JSON list or comma-separated."""
    data: dict[str, Any] = dict(fields)
    if "mapping" in data:
        try:
            data["mapping"] = json.loads(data["mapping"])
        except ValueError:
            raise InvalidInput("mapping", "must be a JSON object of column name -> field") from None
    if "default_tags" in data:
        raw = data["default_tags"].strip()
        try:
            data["default_tags"] = json.loads(raw) if raw.startswith("[") else [t for t in raw.split(",") if t.strip()]
        except ValueError:
            raise InvalidInput("default_tags", "must be a JSON list or comma-separated tags") from None
    try:
        return UploadForm.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from None


def invalid(exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    return InvalidInput(".".join(str(part) for part in first["loc"]) or "body", first["msg"])


def load_import(session: Session, import_id: int, *, for_update: bool = False) -> ContactImport:
    stmt = select(ContactImport).where(ContactImport.id == import_id)
    item = session.scalar(stmt.with_for_update() if for_update else stmt)
    if item is None:
        raise NotFound("import not found")
    return item


def _percent(item: ContactImport) -> float:
    if item.status == ImportStatus.completed:
        return 100.0
    if not item.total_rows:
        return 0.0
    return min(99.0, round(item.processed_rows * 100 / item.total_rows, 1))


def _summary(item: ContactImport) -> dict[str, Any]:
    return {
        "id": item.id,
        "filename": item.filename,
        "file_format": item.file_format,
        "file_size": item.file_size,
        "status": item.status,
        "policy": item.options.get("policy", MergePolicy.skip),
        "total_rows": item.total_rows,
        "processed_rows": item.processed_rows,
        "created_count": item.created_count,
        "updated_count": item.updated_count,
        "skipped_count": item.skipped_count,
        "error_count": item.error_count,
        "duplicate_rows": item.detected.get("duplicate_rows"),
        "percent": _percent(item),
        "error": item.error,
        "cancel_requested": item.cancel_requested,
        "created_by": item.created_by,
        "created_at": item.created_at,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
    }


def import_out(item: ContactImport) -> ImportOut:
    found = item.detected
    return ImportOut(
        **_summary(item),
        columns=found.get("columns", []),
        preview=found.get("preview", []),
        suggested_mapping=found.get("suggested_mapping", {}),
        mapping=item.mapping,
        encoding=found.get("encoding"),
        delimiter=found.get("delimiter"),
        has_header=found.get("has_header", True),
        default_tags=item.options.get("default_tags", []),
        opt_in_source=item.options.get("opt_in_source"),
    )


def _options(settings: ImportSettings, current: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current) or {"policy": MergePolicy.skip, "default_tags": [], "opt_in_source": None}
    for key in ("policy", "default_tags", "opt_in_source"):
        value = getattr(settings, key)
        if value is not None:
            merged[key] = value
    return merged


def _queue(session: Session, item: ContactImport) -> None:
    session.execute(delete(ContactImportError).where(ContactImportError.import_id == item.id))
    item.status = ImportStatus.queued
    item.cancel_requested = False
    item.error = None
    item.processed_rows = item.created_count = item.updated_count = item.skipped_count = item.error_count = 0
    item.started_at = item.finished_at = None
    item.detected = {k: v for k, v in item.detected.items() if k != "duplicate_rows"}
    session.flush()
    enqueue(session, JOB, tenant_id=item.tenant_id, import_id=item.id)


def create_import(session: Session, principal: Principal, upload: StoredUpload) -> ImportOut:
    """Detect the stored upload's format and columns and record the import (queued when `start` is set)."""
    stored = upload.path
    try:
        form = parse_form(upload.fields)
        file_format = sniff_format(upload.head)
        stored = upload.path.rename(upload.path.with_suffix(f".{file_format}"))
        found = detect(stored, file_format, form.model_dump(include=set(READ_OPTIONS)), tenant_country(session))
        mapping: dict[str, str] | None = None
        if form.mapping is not None or form.start:
            given: dict[str, str | None] = dict(form.mapping if form.mapping is not None else found.suggested_mapping)
            mapping = validate_mapping(found.columns, given)
        estimate = estimate_rows(found.file_format, upload.line_breaks, stored)
        item = ContactImport(
            filename=upload.filename,
            file_path=str(stored),
            file_format=found.file_format,
            file_size=upload.size,
            status=ImportStatus.uploaded,
            mapping=mapping or {},
            options=_options(form, {}),
            detected=found.as_json(),
            total_rows=max(0, estimate - 1) if estimate and found.has_header else estimate,
            created_by=principal.user_id,
        )
        session.add(item)
        session.flush()
        if form.start:
            _queue(session, item)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            stored.unlink()
        raise
    return import_out(item)


def start_import(session: Session, import_id: int, settings: ImportSettings) -> ImportOut:
    """Validate the mapping and queue the import; reading options given here re-run detection."""
    item = load_import(session, import_id, for_update=True)
    if item.status not in RESTARTABLE:
        raise Conflict(f"import is {item.status}; only uploaded, failed or cancelled imports can be started")
    path = Path(item.file_path)
    if not item.file_path or not path.is_file():
        raise Conflict("the uploaded file is no longer stored; upload it again")
    mapping = settings.mapping
    given = settings.model_dump(include=set(READ_OPTIONS), exclude_none=True)
    if given:
        read = {key: item.detected.get(key) for key in READ_OPTIONS} | given
        item.detected = detect(path, item.file_format, read, tenant_country(session)).as_json()
    if mapping is None:
        mapping = item.mapping if item.mapping and not given else item.detected.get("suggested_mapping", {})
    item.mapping = validate_mapping(item.detected.get("columns", []), mapping)
    item.options = _options(settings, item.options)
    _queue(session, item)
    return import_out(item)


def get_import(session: Session, import_id: int) -> ImportOut:
    return import_out(load_import(session, import_id))


def list_imports(session: Session, *, cursor: str | None, limit: int) -> Page[ImportSummary]:
    """Imports of the tenant, newest first."""
    stmt = keyset_page(select(ContactImport), [ContactImport.id.expression], cursor, limit, descending=True)
    items, next_cursor = split_page(session.scalars(stmt).all(), limit, lambda i: [i.id])
    return Page(items=[ImportSummary(**_summary(i)) for i in items], next_cursor=next_cursor)


def cancel_import(session: Session, import_id: int) -> ImportOut:
    """Cancel an import that has not committed: it is cancelled at once and writes no contact.

    A running job notices at its next batch and rolls back; if it is already in its final
    transaction, that commits only while the import is still `running`, so one of the two wins
    cleanly (a cancel that loses gets 409). A job lost with its process is cancelled the same way.
    """
    load_import(session, import_id)
    active = (ImportStatus.uploaded, ImportStatus.queued, ImportStatus.running)
    result = session.execute(
        update(ContactImport)
        .where(ContactImport.id == import_id, ContactImport.status.in_(active))
        .values(status=ImportStatus.cancelled, cancel_requested=True, finished_at=utcnow())
    )
    assert isinstance(result, CursorResult)
    session.expire_all()
    item = load_import(session, import_id)
    if result.rowcount != 1:
        raise Conflict(f"import is already {item.status}")
    return import_out(item)


def purge_stale_uploads(runtime: Runtime, older_than: dt.datetime, limit: int = 1000) -> int:
    """Delete the stored files of imports that never completed and were created before `older_than`.

    Uploads hold personal data; a file left by an abandoned, failed or cancelled import is kept for
    a retry only so long. The import row stays (its `start` then asks for a new upload).
    """
    with runtime.task_session() as session, unscoped(session):
        stale = session.execute(
            select(ContactImport.id, ContactImport.file_path)
            .where(
                ContactImport.status.in_(RESTARTABLE),
                ContactImport.created_at < older_than,
                ContactImport.file_path != "",
            )
            .order_by(ContactImport.id)
            .limit(limit)
        ).all()
        for _, file_path in stale:
            with contextlib.suppress(OSError):
                Path(file_path).unlink()
        if stale:
            session.execute(
                update(ContactImport).where(ContactImport.id.in_([i for i, _ in stale])).values(file_path="")
            )
    return len(stale)
