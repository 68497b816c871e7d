"""Bulk contact import: upload a CSV/XLSX file, map its columns, follow the job, download the error report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from greenline.auth.dependencies import require
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import responses
from greenline.core.pagination import Cursor, Limit, Page
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.imports import report, service
from greenline.imports.schemas import ImportErrorOut, ImportOut, ImportSettings, ImportSummary
from greenline.imports.upload import MAX_FIELD_BYTES, receive_upload
from greenline.models.enums import MergePolicy

router = APIRouter(prefix="/contacts", tags=["contact imports"])

CanRead = Annotated[Principal, Depends(require(Permission.contacts_read))]
CanWrite = Annotated[Principal, Depends(require(Permission.contacts_write))]


def _upload_schema() -> dict[str, Any]:
    """The multipart body, documented by hand: the endpoint streams it instead of letting FastAPI parse it."""
    text = {"type": "string", "maxLength": MAX_FIELD_BYTES}
    properties: dict[str, Any] = {
        "file": {"type": "string", "format": "binary", "description": "CSV or XLSX file"},
        "mapping": {
            **text,
            "description": "JSON object, file column -> phone (exactly one), name, first_name, last_name, email, "
            "tags, source, priority or custom.<key>; null or '' ignores a column (default: suggested mapping)",
        },
        "policy": {"type": "string", "enum": [p.value for p in MergePolicy], "description": "For existing numbers"},
        "default_tags": {**text, "description": "JSON list or comma-separated tags added to every row"},
        "delimiter": {"type": "string", "maxLength": 9, "description": "One of , ; | or tab (detected)"},
        "encoding": {"type": "string", "maxLength": 32, "description": "CSV text encoding (detected)"},
        "has_header": {"type": "boolean", "description": "First row holds column names (detected)"},
        "opt_in_source": {"type": "string", "maxLength": 64, "description": "Consent source for new contacts"},
        "start": {"type": "boolean", "description": "Queue the import now (default false)"},
    }
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


@router.post(
    "/bulk-import",
    response_model=ImportOut,
    status_code=201,
    responses=responses(401, 403, 413, 415, 422),
    openapi_extra=_upload_schema(),
)
async def bulk_import(request: Request, session: SessionDep, principal: CanWrite) -> ImportOut:
    """Upload a CSV/XLSX file of contacts: returns its columns, a preview and a suggested mapping; `start` queues it."""
    assert principal.tenant_id is not None
    # End the authentication's transaction so no pooled connection sits idle while a large body streams in.
    await run_in_threadpool(session.commit)
    upload = await receive_upload(request, principal.tenant_id)
    return await run_in_threadpool(service.create_import, session, principal, upload)


@router.get("/imports/", response_model=Page[ImportSummary], responses=responses(401, 403, 422))
def list_imports(session: SessionDep, _: CanRead, cursor: Cursor = None, limit: Limit = 50) -> Page[ImportSummary]:
    """Imports of the tenant, newest first."""
    return service.list_imports(session, cursor=cursor, limit=limit)


@router.get("/imports/{import_id}", response_model=ImportOut, responses=responses(401, 403, 404, 422))
def get_import(session: SessionDep, _: CanRead, import_id: IdPath) -> ImportOut:
    """An import with its progress: status, rows done of the total, created/updated/skipped/error counts."""
    return service.get_import(session, import_id)


@router.post("/imports/{import_id}/start", response_model=ImportOut, responses=responses(401, 403, 404, 409, 422))
def start_import(session: SessionDep, _: CanWrite, import_id: IdPath, body: ImportSettings | None = None) -> ImportOut:
    """Queue an uploaded (or failed, or cancelled) import with a column mapping and merge policy."""
    return service.start_import(session, import_id, body or ImportSettings())


@router.post("/imports/{import_id}/cancel", response_model=ImportOut, responses=responses(401, 403, 404, 409, 422))
def cancel_import(session: SessionDep, _: CanWrite, import_id: IdPath) -> ImportOut:
    """Cancel an import that has not committed yet: it stops at once and writes no contact."""
    return service.cancel_import(session, import_id)


@router.get("/imports/{import_id}/errors", response_model=Page[ImportErrorOut], responses=responses(401, 403, 404, 422))
def list_import_errors(
    session: SessionDep, _: CanRead, import_id: IdPath, cursor: Cursor = None, limit: Limit = 100
) -> Page[ImportErrorOut]:
    """Rejected rows of an import (row number, column, value, reason), in file order."""
    return report.list_errors(session, import_id, cursor=cursor, limit=limit)


@router.get(
    "/imports/{import_id}/errors.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV file"}, **responses(401, 403, 404, 422)},
)
def download_import_errors(
    session: SessionDep, runtime: RuntimeDep, principal: CanRead, import_id: IdPath
) -> StreamingResponse:
    """The error report as a CSV download: row_number,column,value,reason."""
    service.get_import(session, import_id)
    assert principal.tenant_id is not None
    return StreamingResponse(
        report.error_csv(runtime, principal.tenant_id, import_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'},
    )
