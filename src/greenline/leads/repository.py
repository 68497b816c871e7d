"""Lead queries: the filters every list shares, search, and keyset-paginated listing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, exists, func, literal, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from greenline.core.errors import InvalidInput
from greenline.core.pagination import decode_cursor, keyset_page, split_page
from greenline.core.principal import Principal
from greenline.core.types import MAX_ID
from greenline.leads.schemas import EARLIEST, LATEST, LeadFilterParams, LeadListParams, LeadSort, SortOrder
from greenline.models import Contact, Lead
from greenline.models.enums import LEAD_PIPELINE, LeadStatus, Priority

OPEN_STAGES: tuple[LeadStatus, ...] = LEAD_PIPELINE[:-1]
CLOSED_STAGES: tuple[LeadStatus, ...] = (LeadStatus.won, LeadStatus.lost)
# Leads without a follow-up sort after every dated one.
_NO_FOLLOW_UP = LATEST
_PHONE_LIKE = re.compile(r"^[+\d\s().-]+$")

LeadRow = tuple[Lead, Contact]


@dataclass(frozen=True)
class LeadFilter:
    """Everything a lead list can be narrowed by; ranges include `_from` and exclude `_to`."""

    statuses: tuple[LeadStatus, ...] = ()
    priorities: tuple[Priority, ...] = ()
    min_score: int | None = None
    max_score: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    follow_up_from: dt.datetime | None = None
    follow_up_to: dt.datetime | None = None
    has_follow_up: bool | None = None
    assigned_to: int | None = None
    assigned: bool | None = None
    source: str | None = None
    tag: str | None = None
    text: str | None = None


def resolve_assignee(principal: Principal, raw: str | None) -> int | None:
    """Turn an `assigned_to` query value ("me" or an id) into a user id."""
    if raw is None:
        return None
    if raw != "me":
        return int(raw)
    if principal.user_id is None:
        raise InvalidInput("assigned_to", '"me" needs a user login, not an API key')
    return principal.user_id


def _check_range(low: Any, high: Any, low_name: str, high_name: str) -> None:
    if low is not None and high is not None and low > high:
        raise InvalidInput(high_name, f"must not be below {low_name}")


def filter_from_list(principal: Principal, params: LeadListParams) -> LeadFilter:
    _check_range(params.min_score, params.max_score, "min_score", "max_score")
    return LeadFilter(
        statuses=(params.status,) if params.status else (),
        priorities=(params.priority,) if params.priority else (),
        min_score=params.min_score,
        max_score=params.max_score,
        has_follow_up=params.has_follow_up,
        assigned_to=resolve_assignee(principal, params.assigned_to),
    )


def filter_from_params(principal: Principal, params: LeadFilterParams) -> LeadFilter:
    _check_range(params.min_score, params.max_score, "min_score", "max_score")
    _check_range(params.min_value, params.max_value, "min_value", "max_value")
    _check_range(params.created_from, params.created_to, "created_from", "created_to")
    _check_range(params.follow_up_from, params.follow_up_to, "follow_up_from", "follow_up_to")
    return LeadFilter(
        statuses=tuple(dict.fromkeys(params.statuses)),
        priorities=tuple(dict.fromkeys(params.priorities)),
        min_score=params.min_score,
        max_score=params.max_score,
        min_value=params.min_value,
        max_value=params.max_value,
        created_from=params.created_from,
        created_to=params.created_to,
        follow_up_from=params.follow_up_from,
        follow_up_to=params.follow_up_to,
        assigned_to=resolve_assignee(principal, params.assigned_to),
        assigned=params.assigned,
        source=params.source,
        tag=params.tag,
    )


def visible_leads(principal: Principal) -> Select[Lead, Contact]:
    """Leads with their contact, narrowed to the caller's own leads for sales users."""
    stmt = select(Lead, Contact).join(Contact, Contact.id == Lead.contact_id)
    if principal.assigned_only:
        stmt = stmt.where(Lead.assigned_to == principal.user_id)
    return stmt


def _has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        # JSONB containment, served by the GIN index on contacts.tags.
        return type_coerce(Contact.tags, JSONB).contains([tag])
    each = func.json_each(Contact.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches_text(text: str) -> ColumnElement[bool]:
    pattern = f"%{_escape_like(text)}%"
    clauses = [
        Lead.title.ilike(pattern, escape="\\"),
        Lead.notes.ilike(pattern, escape="\\"),
        Contact.name.ilike(pattern, escape="\\"),
        Contact.email.ilike(pattern, escape="\\"),
        Contact.phone.like(pattern, escape="\\"),
    ]
    digits = re.sub(r"\D", "", text)
    if _PHONE_LIKE.match(text) and len(digits) >= 3:
        # People type numbers with spaces and dashes; phones are stored as E.164.
        clauses.append(Contact.phone.like(f"%{digits}%"))
    return or_(*clauses)


def apply_filter(session: Session, stmt: Select[Lead, Contact], flt: LeadFilter) -> Select[Lead, Contact]:
    """Add the filter's conditions to a select over leads joined with contacts."""
    conditions: list[ColumnElement[bool]] = []
    if flt.statuses:
        conditions.append(Lead.status.in_(flt.statuses))
    if flt.priorities:
        conditions.append(Lead.priority.in_(flt.priorities))
    if flt.min_score is not None:
        conditions.append(Lead.score >= flt.min_score)
    if flt.max_score is not None:
        conditions.append(Lead.score <= flt.max_score)
    if flt.min_value is not None:
        conditions.append(Lead.value >= flt.min_value)
    if flt.max_value is not None:
        conditions.append(Lead.value <= flt.max_value)
    if flt.created_from is not None:
        conditions.append(Lead.created_at >= flt.created_from)
    if flt.created_to is not None:
        conditions.append(Lead.created_at < flt.created_to)
    if flt.follow_up_from is not None:
        conditions.append(Lead.next_follow_up_at >= flt.follow_up_from)
    if flt.follow_up_to is not None:
        conditions.append(Lead.next_follow_up_at < flt.follow_up_to)
    if flt.has_follow_up is not None:
        has = Lead.next_follow_up_at.is_not(None)
        conditions.append(has if flt.has_follow_up else ~has)
    if flt.assigned_to is not None:
        conditions.append(Lead.assigned_to == flt.assigned_to)
    if flt.assigned is not None:
        assigned = Lead.assigned_to.is_not(None)
        conditions.append(assigned if flt.assigned else ~assigned)
    if flt.source is not None:
        conditions.append(Lead.source == flt.source)
    if flt.tag is not None:
        conditions.append(_has_tag(session, flt.tag))
    if flt.text is not None:
        conditions.append(_matches_text(flt.text))
    return stmt.where(*conditions) if conditions else stmt


def cursor_time(raw: Any) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(raw))
    if value.tzinfo is None:
        raise ValueError("naive time")
    try:
        value = value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("out of range") from None
    if not EARLIEST <= value <= LATEST:
        raise ValueError("out of range")
    return value


def check_cursor(cursor: str | None, size: int) -> str | None:
    """Refuse cursors holding nulls, which `keyset_page` would pass to SQL comparisons unchecked."""
    if cursor is not None and None in decode_cursor(cursor, size):
        raise InvalidInput("cursor", "is not a cursor returned by this endpoint")
    return cursor


def cursor_int(raw: Any) -> int:
    value = int(raw)
    if abs(value) > MAX_ID:
        raise ValueError("out of range")
    return value


def _sort_key(sort: LeadSort) -> tuple[list[ColumnElement[Any]], list[Any], Callable[[LeadRow], list[Any]]]:
    """Columns to order by, how to read a cursor's values back, and a row's cursor values."""
    if sort == LeadSort.score:
        return (
            [Lead.score.expression, Lead.id.expression],
            [cursor_int, cursor_int],
            lambda row: [row[0].score, row[0].id],
        )
    if sort == LeadSort.next_follow_up:
        follow_up = func.coalesce(Lead.next_follow_up_at, literal(_NO_FOLLOW_UP, Lead.next_follow_up_at.type))
        return (
            [follow_up, Lead.id.expression],
            [cursor_time, cursor_int],
            lambda row: [row[0].next_follow_up_at or _NO_FOLLOW_UP, row[0].id],
        )
    return (
        [Lead.created_at.expression, Lead.id.expression],
        [cursor_time, cursor_int],
        lambda row: [row[0].created_at, row[0].id],
    )


def page_leads(
    session: Session,
    principal: Principal,
    flt: LeadFilter,
    *,
    sort: LeadSort = LeadSort.created,
    order: SortOrder | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[LeadRow], str | None]:
    """One keyset page of the caller's leads matching `flt`."""
    columns, coerce, key = _sort_key(sort)
    if order is None:
        order = SortOrder.asc if sort == LeadSort.next_follow_up else SortOrder.desc
    stmt = apply_filter(session, visible_leads(principal), flt)
    cursor = check_cursor(cursor, len(columns))
    descending = order == SortOrder.desc
    paged = keyset_page(cast(Select[Any], stmt), columns, cursor, limit, descending=descending, coerce=coerce)
    rows = [(lead, contact) for lead, contact in session.execute(paged).all()]
    return split_page(rows, limit, key)
