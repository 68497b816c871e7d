"""Keyset (cursor) pagination: page 5,000 costs the same as page 1.

A cursor is an opaque, URL-safe token holding the sort key of the last row
returned. Lists order by a unique key (usually `(sort column, id)`) and fetch
the rows strictly after it, so no OFFSET scan ever happens.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, bindparam, tuple_

from greenline.core.errors import InvalidInput

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """Decode a cursor made by `encode_cursor`; anything else is a 422 naming `cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor", "is not a cursor returned by this endpoint") from None
    if not isinstance(values, list) or len(values) != size or any(v is None for v in values):
        raise InvalidInput("cursor", "is not a cursor returned by this endpoint")
    return values


def after(columns: Sequence[Any], values: Sequence[Any], *, descending: bool = False) -> Any:
    """The SQL condition `(c1, c2, ...) > (v1, v2, ...)` (or `<` when descending).

    Written as a row-value comparison, which PostgreSQL (and SQLite 3.15+) turn into an index range
    start, so a deep page costs what page 1 costs; the expanded OR form made PostgreSQL walk and
    discard every earlier row.
    """
    if len(columns) == 1:
        return columns[0] < values[0] if descending else columns[0] > values[0]
    # Bind each value with its column's type (UTC timestamps are stored in a specific text form on SQLite).
    right = tuple_(*(bindparam(None, value, type_=column.type) for column, value in zip(columns, values, strict=True)))
    left = tuple_(*columns)
    return left < right if descending else left > right


def keyset_page(
    stmt: Select[Any],  # any select, including multi-entity ones
    columns: Sequence[Any],
    cursor: str | None,
    limit: int,
    *,
    descending: bool = False,
    coerce: Sequence[Any] | None = None,
) -> Select[Any]:
    """Order `stmt` by `columns`, start after `cursor`, and fetch one extra row to detect more."""
    if cursor:
        values = decode_cursor(cursor, len(columns))
        if coerce is not None:
            try:
                values = [convert(v) for convert, v in zip(coerce, values, strict=True)]
            except (TypeError, ValueError):
                raise InvalidInput("cursor", "is not a cursor returned by this endpoint") from None
        stmt = stmt.where(after(columns, values, descending=descending))
    order = [c.desc() for c in columns] if descending else list(columns)
    return stmt.order_by(*order).limit(limit + 1)


def split_page(rows: Sequence[T], limit: int, key: Any) -> tuple[list[T], str | None]:
    """Trim the extra row and build the next cursor from the last row's sort key."""
    items = list(rows[:limit])
    if len(rows) > limit and items:
        return items, encode_cursor(key(items[-1]))
    return items, None
