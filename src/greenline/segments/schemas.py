from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

SegmentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

RULES_DESCRIPTION = (
    'A rule tree: {"all": [rule, ...]}, {"any": [rule, ...]}, {"not": rule} or a field rule '
    '{"field", "op", "value"}. Fields: tags (has, has_all, has_any, has_none); status, priority, source, '
    "country, language (eq, neq, in, not_in); name, email, phone (eq, contains, starts_with); created_at, "
    "last_contacted_at (before, after, within_days, is_null); custom.<key> (eq, neq, gt, gte, lt, lte, "
    "contains, exists); opted_out (eq). At most 5 levels deep and 50 field rules."
)
RULES_EXAMPLE = {
    "all": [
        {"field": "tags", "op": "has_any", "value": ["vip", "newsletter"]},
        {"not": {"field": "status", "op": "in", "value": ["blocked", "unsubscribed"]}},
        {"field": "custom.orders", "op": "gte", "value": 3},
    ]
}
Rules = Annotated[dict[str, Any], Field(description=RULES_DESCRIPTION, json_schema_extra={"examples": [RULES_EXAMPLE]})]


class SegmentCreate(BaseModel):
    name: SegmentName
    description: Description | None = None
    rules: Rules


class SegmentUpdate(BaseModel):
    name: SegmentName | None = None
    description: Description | None = None
    rules: Rules | None = None


class SegmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    rules: dict[str, Any]
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RulesCount(BaseModel):
    rules: Rules


class SegmentCount(BaseModel):
    count: int
