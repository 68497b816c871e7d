"""The row-level error report of an import: a paginated list and a streamed CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.core.pagination import Page, after, keyset_page, split_page
from greenline.core.runtime import Runtime
from greenline.imports.schemas import ImportErrorOut
from greenline.imports.service import load_import
from greenline.models import ContactImportError

CSV_BATCH = 5000
_FORMULA_START = ("=", "@", "\t", "\r")


def list_errors(session: Session, import_id: int, *, cursor: str | None, limit: int) -> Page[ImportErrorOut]:
    """Rejected rows of an import in file order."""
    load_import(session, import_id)
    columns = [ContactImportError.row_number.expression, ContactImportError.id.expression]
    stmt = select(ContactImportError).where(ContactImportError.import_id == import_id)
    rows = session.scalars(keyset_page(stmt, columns, cursor, limit, coerce=[int, int])).all()
    items, next_cursor = split_page(rows, limit, lambda e: [e.row_number, e.id])
    return Page(items=[ImportErrorOut.model_validate(e, from_attributes=True) for e in items], next_cursor=next_cursor)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas; a leading quote keeps them text.
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def error_csv(runtime: Runtime, tenant_id: int, import_id: int) -> Iterator[str]:
    """The error report as CSV (row_number,column,value,reason), read in keyset batches."""
    yield "row_number,column,value,reason\r\n"
    order = [ContactImportError.row_number.expression, ContactImportError.id.expression]
    last: list[int] | None = None
    with runtime.session(tenant_id) as session:
        while True:
            stmt = select(
                ContactImportError.row_number,
                ContactImportError.id,
                ContactImportError.column,
                ContactImportError.value,
                ContactImportError.reason,
            ).where(ContactImportError.import_id == import_id)
            if last is not None:
                stmt = stmt.where(after(order, last))
            rows = session.execute(stmt.order_by(*order).limit(CSV_BATCH)).all()
            if not rows:
                return
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerows([r.row_number, _cell(r.column), _cell(r.value), _cell(r.reason)] for r in rows)
            yield buffer.getvalue()
            last = [rows[-1].row_number, rows[-1].id]
