"""CSV export of contacts, streamed in keyset batches so memory stays flat for any tenant size."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import structlog
from sqlalchemy import ColumnElement

from greenline.contacts.repository import with_opt_out
from greenline.core.runtime import Runtime
from greenline.models import Contact

log = structlog.get_logger(__name__)

BATCH_SIZE = 2000
COLUMNS = (
    "id",
    "phone",
    "name",
    "email",
    "tags",
    "status",
    "priority",
    "source",
    "country",
    "timezone",
    "language",
    "opted_out",
    "created_at",
    "custom_data",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) with a leading quote.

    A bare signed number such as an E.164 phone (`+4915112345678`) cannot run anything,
    so it is left intact for re-import.
    """
    if value.startswith(_FORMULA_START) and not _SIGNED_NUMBER.match(value):
        return "'" + value
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def csv_row(contact: Contact, opted_out: bool) -> list[str]:
    """One contact as CSV cells, in COLUMNS order, formula-safe."""
    values: list[Any] = [
        contact.id,
        contact.phone,
        contact.name,
        contact.email,
        ";".join(contact.tags or []),
        contact.status.value,
        contact.priority.value,
        contact.source,
        contact.country,
        contact.timezone,
        contact.language,
        opted_out,
        contact.created_at,
        json.dumps(contact.custom_data, ensure_ascii=False, sort_keys=True) if contact.custom_data else "",
    ]
    return [safe_cell(_text(value)) for value in values]


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def iter_csv(runtime: Runtime, tenant_id: int, where: ColumnElement[bool]) -> Iterator[str]:
    """Yield the header, then one CSV chunk per batch of matching contacts (by id), in its own session."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield _take(buffer)
    exported = 0
    with runtime.session(tenant_id) as session:
        last_id = 0
        while True:
            size = BATCH_SIZE
            stmt = with_opt_out().where(where, Contact.id > last_id).order_by(Contact.id).limit(size)
            rows = session.execute(stmt).all()
            for contact, opted_out in rows:
                writer.writerow(csv_row(contact, bool(opted_out)))
            if rows:
                last_id = rows[-1][0].id
                exported += len(rows)
                # Forget the batch's objects so the identity map does not grow with the export.
                session.expunge_all()
                yield _take(buffer)
            if len(rows) < size:
                break
    log.info("contacts.exported", tenant_id=tenant_id, rows=exported)


def export_filename(now: dt.datetime) -> str:
    """The download name of an export made at `now`."""
    return f"contacts-{now:%Y%m%d-%H%M%S}.csv"
