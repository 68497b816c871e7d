"""`greenline import contacts FILE --tenant <id or slug>`: the same import job as the API, with a progress bar."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from greenline.config import get_settings
from greenline.core.errors import AppError, NotFound
from greenline.core.principal import Principal
from greenline.core.runtime import Runtime
from greenline.imports import service, upload
from greenline.imports.detect import HEAD_BYTES
from greenline.models import Tenant
from greenline.models.enums import ImportStatus, MergePolicy
from greenline.wiring import make_runtime

import_app = typer.Typer(help="Import data into a tenant.", no_args_is_help=True)
console = Console()
FINISHED = (ImportStatus.completed, ImportStatus.failed, ImportStatus.cancelled)
POLL_SECONDS = 0.2


def _mapping_field(values: list[str]) -> str | None:
    """`--mapping '{"Phone": "phone"}'` or repeated `--mapping "Full Name=name"` as the form's JSON text."""
    if not values:
        return None
    if len(values) == 1 and values[0].lstrip().startswith("{"):
        return values[0]
    pairs = {}
    for value in values:
        column, sep, target = value.rpartition("=")
        if not sep or not column:
            raise typer.BadParameter(f"{value!r}: write COLUMN=FIELD (e.g. 'Mobile=phone')", param_hint="--mapping")
        pairs[column] = target
    return json.dumps(pairs)


@import_app.command("contacts")
def import_contacts(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or XLSX file")],
    tenant: Annotated[str, typer.Option(help="Tenant id or slug")],
    mapping: Annotated[
        list[str] | None, typer.Option(help="JSON object, or COLUMN=FIELD (repeatable); default: the suggestion")
    ] = None,
    policy: Annotated[MergePolicy, typer.Option(help="What to do with numbers that already exist")] = MergePolicy.skip,
    tag: Annotated[list[str] | None, typer.Option(help="Tag added to every contact (repeatable)")] = None,
    opt_in_source: Annotated[str | None, typer.Option(help="Consent source recorded on new contacts")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter: , ; | or tab (detected)")] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV text encoding (detected)")] = None,
    header: Annotated[bool | None, typer.Option("--header/--no-header", help="First row is a header")] = None,
) -> None:
    """Import contacts from a file into a tenant, showing progress; exits 1 unless the import completes."""
    fields = {
        "start": "true",
        "policy": policy.value,
        "mapping": _mapping_field(mapping or []),
        "default_tags": json.dumps(tag) if tag else None,
        "opt_in_source": opt_in_source,
        "delimiter": delimiter,
        "encoding": encoding,
        "has_header": None if header is None else str(header).lower(),
    }
    runtime = make_runtime(get_settings(), run_schedules=False)
    try:
        tenant_id = _tenant_id(runtime, tenant)
        import_id, total = _create(runtime, tenant_id, file, {k: v for k, v in fields.items() if v is not None})
        try:
            status = _follow(runtime, tenant_id, import_id, total)
        except KeyboardInterrupt:
            with runtime.task_session(tenant_id) as session:
                service.cancel_import(session, import_id)
            console.print("[yellow]cancelled: no contact was written[/yellow]")
            raise typer.Exit(130) from None
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        runtime.close()
    raise typer.Exit(0 if status == ImportStatus.completed else 1)


def _tenant_id(runtime: Runtime, ref: str) -> int:
    with runtime.session() as session:
        query = select(Tenant.id).where(Tenant.id == int(ref) if ref.isdigit() else Tenant.slug == ref)
        found = session.scalar(query)
    if found is None:
        raise NotFound(f"tenant {ref!r} not found")
    return found


def _create(runtime: Runtime, tenant_id: int, file: Path, fields: dict[str, str]) -> tuple[int, int | None]:
    """Copy the file where the job reads uploads and record the import, queued."""
    directory = upload.UPLOAD_DIR / str(tenant_id)
    directory.mkdir(parents=True, exist_ok=True)
    target = (directory / f"{uuid.uuid4().hex}.upload").resolve()
    shutil.copyfile(file, target)
    line_breaks = 0
    with target.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
        handle.seek(0)
        while chunk := handle.read(1 << 20):
            line_breaks += chunk.count(b"\n")
    stored = upload.StoredUpload(
        path=target, filename=file.name[:255], size=target.stat().st_size, head=head, line_breaks=line_breaks
    )
    stored.fields = fields
    operator = Principal(user_id=None, tenant_id=tenant_id, role=None, permissions=frozenset())
    with runtime.task_session(tenant_id) as session:
        created = service.create_import(session, operator, stored)
    console.print(f"import {created.id}: {created.filename}, columns {', '.join(created.columns)}")
    console.print(f"mapping: {json.dumps(created.mapping, ensure_ascii=False)}")
    return created.id, created.total_rows


def _follow(runtime: Runtime, tenant_id: int, import_id: int, total: int | None) -> ImportStatus:
    """Poll the import's progress (the job runs in this process, or on a worker in scale mode)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("queued", total=total)
        while True:
            with runtime.session(tenant_id) as session:
                current = service.get_import(session, import_id)
            progress.update(
                task,
                total=current.total_rows or total,
                completed=current.processed_rows,
                description=f"{current.status} ({current.error_count} errors)",
            )
            if current.status in FINISHED:
                break
            time.sleep(POLL_SECONDS)
    if current.status == ImportStatus.completed:
        console.print(
            f"[green]completed[/green]: {current.created_count} created, {current.updated_count} updated, "
            f"{current.skipped_count} skipped, {current.error_count} rejected rows"
        )
        if current.error_count:
            console.print(f"error report: GET /api/v1/contacts/imports/{import_id}/errors.csv")
    else:
        console.print(f"[red]{current.status}[/red]: {current.error or 'cancelled; no contact was written'}")
    return current.status
