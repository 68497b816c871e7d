"""Compile a validated rule tree into a SQLAlchemy WHERE clause over `contacts`.

Every leaf is NULL-safe (true or false, never NULL), so `not` means what users expect:
{"not": {"field": "name", "op": "contains", "value": "x"}} includes contacts without a name.
On PostgreSQL tag rules use JSONB containment (`tags @> '["vip"]'`), which the GIN index
ix_contacts_tags_gin serves; SQLite scans `json_each(tags)`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from greenline.core.db import utcnow
from greenline.models import Contact
from greenline.optouts.service import contact_opted_out
from greenline.segments.rules import CUSTOM_PREFIX, Group, Leaf, Negation, Node

_COLUMNS: dict[str, ColumnElement[Any]] = {
    "status": Contact.status.expression,
    "priority": Contact.priority.expression,
    "source": Contact.source.expression,
    "country": Contact.country.expression,
    "language": Contact.language.expression,
    "name": Contact.name.expression,
    "email": Contact.email.expression,
    "phone": Contact.phone.expression,
    "created_at": Contact.created_at.expression,
    "last_contacted_at": Contact.last_contacted_at.expression,
}


class RuleCompiler:
    """Turns rule nodes into SQL for one database dialect."""

    def __init__(self, *, postgres: bool, now: dt.datetime | None = None) -> None:
        self.postgres = postgres
        self.now = now or utcnow()

    def compile(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Negation):
            return not_(self.compile(node.rule))
        if isinstance(node, Group):
            parts = [self.compile(child) for child in node.rules]
            if node.mode == "all":
                return and_(true(), *parts) if parts else true()
            return or_(false(), *parts) if parts else false()
        return self.leaf(node)

    def leaf(self, leaf: Leaf) -> ColumnElement[bool]:
        if leaf.field == "tags":
            return self.tags(leaf.op, [leaf.value] if leaf.op == "has" else list(leaf.value))
        if leaf.field == "opted_out":
            return contact_opted_out() if leaf.value else ~contact_opted_out()
        if leaf.field.startswith(CUSTOM_PREFIX):
            return self.custom(leaf.field[len(CUSTOM_PREFIX) :], leaf.op, leaf.value)
        column = _COLUMNS[leaf.field]
        if leaf.field in ("created_at", "last_contacted_at"):
            return self.timestamp(column, leaf.op, leaf.value)
        if leaf.field in ("name", "email", "phone"):
            return self.text(leaf.field, column, leaf.op, leaf.value)
        return self.choice(column, leaf.op, leaf.value)

    # --- tags ----------------------------------------------------------------------

    def has_tags(self, tags: list[str]) -> ColumnElement[bool]:
        """The contact carries every tag in `tags`."""
        if self.postgres:
            return type_coerce(Contact.tags, JSONB).contains(tags)
        each = func.json_each(Contact.tags).table_valued("value")
        return and_(*(select(literal(1)).select_from(each).where(each.c.value == tag).exists() for tag in tags))

    def tags(self, op: str, tags: list[str]) -> ColumnElement[bool]:
        if op in ("has", "has_all"):
            return self.has_tags(tags)
        any_of = or_(*(self.has_tags([tag]) for tag in tags))
        return any_of if op == "has_any" else not_(any_of)

    # --- plain columns ---------------------------------------------------------------

    @staticmethod
    def choice(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
        if op == "eq":
            return and_(column.is_not(None), column == value)
        if op == "neq":
            return or_(column.is_(None), column != value)
        if op == "in":
            return and_(column.is_not(None), column.in_(value))
        return or_(column.is_(None), column.not_in(value))

    @staticmethod
    def text(field: str, column: ColumnElement[Any], op: str, value: str) -> ColumnElement[bool]:
        if field == "phone":
            # Numbers are stored as E.164; `value` holds the digits the user typed.
            if op == "eq":
                return column == "+" + value
            if op == "starts_with":
                return column.startswith("+" + value, autoescape=True)
            return column.contains(value, autoescape=True)
        present = column.is_not(None)
        if op == "eq":
            return and_(present, func.lower(column) == value.lower())
        if op == "starts_with":
            return and_(present, column.istartswith(value, autoescape=True))
        return and_(present, column.icontains(value, autoescape=True))

    def timestamp(self, column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
        if op == "is_null":
            return column.is_(None) if value else column.is_not(None)
        if op == "within_days":
            return and_(column.is_not(None), column >= self.now - dt.timedelta(days=value))
        if op == "before":
            return and_(column.is_not(None), column < value)
        return and_(column.is_not(None), column > value)

    # --- custom data -----------------------------------------------------------------

    def custom(self, key: str, op: str, value: Any) -> ColumnElement[bool]:
        if op == "exists":
            present = self._custom_present(key)
            return present if value else not_(present)
        if op == "neq":
            return not_(self._custom_equals(key, value))
        if op == "eq":
            return self._custom_equals(key, value)
        if op == "contains":
            text = self._custom_typed(key, "string")
            return func.coalesce(type_coerce(text, String).icontains(value, autoescape=True), false())
        if isinstance(value, str):
            target = self._custom_typed(key, "string")
            bound: ColumnElement[Any] = literal(value, String)
        else:
            target = self._custom_typed(key, "number")
            bound = bindparam(None, Decimal(str(value)), Numeric)
        if op == "gt":
            compared = target > bound
        elif op == "gte":
            compared = target >= bound
        elif op == "lt":
            compared = target < bound
        else:
            compared = target <= bound
        return func.coalesce(compared, false())

    def _custom_present(self, key: str) -> ColumnElement[bool]:
        if self.postgres:
            present: ColumnElement[bool] = type_coerce(Contact.custom_data, JSONB).has_key(key)
            return present
        return func.json_type(Contact.custom_data, f'$."{key}"').is_not(None)

    def _custom_equals(self, key: str, value: Any) -> ColumnElement[bool]:
        if self.postgres:
            # Typed JSON equality (5 == 5.0, true != "true"), never NULL.
            return type_coerce(Contact.custom_data, JSONB).contains({key: value})
        kind = func.coalesce(func.json_type(Contact.custom_data, f'$."{key}"'), "")
        extracted = func.json_extract(Contact.custom_data, f'$."{key}"')
        if isinstance(value, bool):
            return kind == ("true" if value else "false")
        if isinstance(value, str):
            return and_(kind == "text", extracted == value)
        return and_(kind.in_(("integer", "real")), extracted == value)

    def _custom_typed(self, key: str, kind: str) -> ColumnElement[Any]:
        """The value of `key` when it has JSON type `kind` (`string` or `number`), else NULL; never a cast error."""
        if self.postgres:
            data = type_coerce(Contact.custom_data, JSONB)
            text = data[key].astext
            value: Any = text.collate("C") if kind == "string" else type_coerce(text, String).cast(Numeric)
            return case((func.jsonb_typeof(data[key]) == kind, value), else_=None)
        sqlite_kinds = ("text",) if kind == "string" else ("integer", "real")
        json_kind = func.json_type(Contact.custom_data, f'$."{key}"')
        return case((json_kind.in_(sqlite_kinds), func.json_extract(Contact.custom_data, f'$."{key}"')), else_=None)


def compile_rules(node: Node, *, postgres: bool, now: dt.datetime | None = None) -> ColumnElement[bool]:
    """The WHERE clause selecting the contacts a validated rule tree describes."""
    return RuleCompiler(postgres=postgres, now=now).compile(node)
