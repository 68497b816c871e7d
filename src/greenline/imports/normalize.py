"""Turn one file row into a staged contact, or into the reason it was rejected.

This is the hot loop of an import (a million rows must take well under a minute),
so a mapping is compiled once into column indices and each row costs one phone
parse plus a few string operations: no ORM objects, no per-row validation models.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from greenline.contacts.schemas import MAX_TAGS, normalize_tag
from greenline.imports.phones import PhoneFields, phone_fields
from greenline.models.enums import Priority

MAX_NAME = 200
MAX_EMAIL = 320
MAX_SOURCE = 64
MAX_CUSTOM_VALUE = 1000
MAX_REPORTED_VALUE = 500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
TAG_SPLIT = re.compile(r"[,;|]")
PRIORITIES = tuple(p.value for p in Priority)
EMPTY_OBJECT = "{}"
# One encoder for every row: json.dumps with options builds a new encoder per call.
_JSON = json.JSONEncoder(ensure_ascii=False)

# A staged row: (row_number, phone, name, email, tags, custom, source, priority, country, timezone,
# language, error_column, error_value, error_reason). Valid rows have no error; rejected rows only that.
Staged = tuple[
    int, str | None, str | None, str | None, str | None, str | None, str | None, str | None,
    str | None, str | None, str | None, str | None, str | None, str | None,
]  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """A validated mapping compiled to column positions."""

    phone: int
    columns: tuple[str, ...]
    name: int | None = None
    first_name: int | None = None
    last_name: int | None = None
    email: int | None = None
    tags: int | None = None
    source: int | None = None
    priority: int | None = None
    custom: tuple[tuple[int, str], ...] = ()
    default_tags: tuple[str, ...] = ()


def compile_plan(columns: list[str], mapping: dict[str, str], default_tags: list[str]) -> Plan:
    """Positions of each mapped column; the mapping must already be validated."""
    fields: dict[str, int] = {}
    custom: list[tuple[int, str]] = []
    for column, target in mapping.items():
        index = columns.index(column)
        if target.startswith("custom."):
            custom.append((index, target.removeprefix("custom.")))
        elif target:
            fields[target] = index
    return Plan(columns=tuple(columns), custom=tuple(custom), default_tags=tuple(default_tags), **fields)


class Shaper:
    """Shapes rows of one import; call `shape(row_number, cells)` per row."""

    def __init__(self, plan: Plan, default_country: str | None) -> None:
        self.plan = plan
        self.country = default_country
        scalars = (plan.name, plan.first_name, plan.last_name, plan.email, plan.tags, plan.source, plan.priority)
        self.width = max([plan.phone, *(i for i, _ in plan.custom), *(i for i in scalars if i is not None)])
        self.constant_tags = _JSON.encode(list(plan.default_tags)) if plan.default_tags else "[]"

    def _reject(self, number: int, index: int, value: str, reason: str) -> Staged:
        column = self.plan.columns[index]
        return (number, None, None, None, None, None, None, None, None, None, None,
                column, value[:MAX_REPORTED_VALUE], reason)  # fmt: skip

    def shape(self, number: int, cells: list[str], phone: PhoneFields | str | None = None) -> Staged | None:
        """The staged row, a rejected row, or None for a row with nothing in it.

        `phone` is `phone_fields` of the phone cell when it was computed elsewhere (see imports.parallel).
        """
        plan = self.plan
        if len(cells) <= self.width:
            cells = cells + [""] * (self.width + 1 - len(cells))
        raw_phone = cells[plan.phone]
        if not raw_phone.strip() and not any(c.strip() for c in cells):
            return None
        if phone is None:
            phone = phone_fields(raw_phone, self.country)
        if isinstance(phone, str):
            return self._reject(number, plan.phone, raw_phone, "phone is empty" if phone == "empty" else phone)

        name = None
        if plan.name is not None:
            name = cells[plan.name].strip() or None
        elif plan.first_name is not None or plan.last_name is not None:
            first = cells[plan.first_name].strip() if plan.first_name is not None else ""
            last = cells[plan.last_name].strip() if plan.last_name is not None else ""
            name = f"{first} {last}".strip() or None
        if name is not None and len(name) > MAX_NAME:
            index = plan.name if plan.name is not None else (plan.first_name or plan.last_name or 0)
            return self._reject(number, index, name, f"name is longer than {MAX_NAME} characters")

        email = None
        if plan.email is not None:
            email = cells[plan.email].strip().lower() or None
            if email is not None and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
                return self._reject(number, plan.email, cells[plan.email], "not an email address")

        tags = self.constant_tags
        if plan.tags is not None and cells[plan.tags].strip():
            found = list(plan.default_tags)
            seen = {tag.casefold() for tag in found}
            for piece in TAG_SPLIT.split(cells[plan.tags]):
                if not piece.strip():
                    continue
                try:
                    tag = normalize_tag(piece)
                except ValueError as exc:
                    return self._reject(number, plan.tags, piece, str(exc))
                if tag.casefold() not in seen:
                    seen.add(tag.casefold())
                    found.append(tag)
            if len(found) > MAX_TAGS:
                return self._reject(number, plan.tags, cells[plan.tags], f"more than {MAX_TAGS} tags")
            tags = _JSON.encode(found)

        custom = EMPTY_OBJECT
        if plan.custom:
            values: dict[str, str] = {}
            for index, key in plan.custom:
                value = cells[index].strip()
                if value:
                    if len(value) > MAX_CUSTOM_VALUE:
                        return self._reject(number, index, value, f"longer than {MAX_CUSTOM_VALUE} characters")
                    values[key] = value
            if values:
                custom = _JSON.encode(values)

        source = None
        if plan.source is not None:
            source = cells[plan.source].strip() or None
            if source is not None and len(source) > MAX_SOURCE:
                return self._reject(number, plan.source, source, f"source is longer than {MAX_SOURCE} characters")

        priority = None
        if plan.priority is not None:
            priority = cells[plan.priority].strip().lower() or None
            if priority is not None and priority not in PRIORITIES:
                return self._reject(
                    number, plan.priority, cells[plan.priority], f"priority must be one of {', '.join(PRIORITIES)}"
                )

        e164, country, zone, language = phone
        return (number, e164, name, email, tags, custom, source, priority, country, zone, language, None, None, None)
