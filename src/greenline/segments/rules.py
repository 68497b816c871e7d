"""The segment rule language: a validated JSON tree, never SQL from the user.

    {"all": [rule, ...]}   every rule holds (an empty list matches every contact)
    {"any": [rule, ...]}   at least one rule holds
    {"not": rule}          the rule does not hold
    {"field": "tags", "op": "has", "value": "vip"}   a leaf

Trees are at most MAX_DEPTH levels deep with at most MAX_LEAVES leaves. A bad node
raises RuleError with its exact path (`rules.all.1.value`), which the API turns
into a 422 naming that path.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from greenline.models.enums import ContactStatus, Priority

MAX_DEPTH = 5
MAX_LEAVES = 50
MAX_LIST = 50
MAX_JSON_CHARS = 20_000
CUSTOM_PREFIX = "custom."
CUSTOM_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")


class RuleError(ValueError):
    """A rule tree node is invalid; `path` locates it (`rules.all.0.value`)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Leaf:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    mode: Literal["all", "any"]
    rules: tuple[Node, ...]


@dataclass(frozen=True)
class Negation:
    rule: Node


Node = Leaf | Group | Negation


# --- value types -----------------------------------------------------------------


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _digits(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if not digits:
        raise ValueError("must contain digits")
    return digits


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
Language = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
PhoneQuery = Annotated[str, StringConstraints(max_length=40), AfterValidator(_digits)]
When = Annotated[dt.datetime, AfterValidator(_utc)]
Days = Annotated[int, Field(strict=True, ge=1, le=36_500)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Integer = Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]


def _listed(item: Any) -> Any:
    return Annotated[list[item], Field(min_length=1, max_length=MAX_LIST)]


def _adapters(single: Any) -> dict[str, TypeAdapter[Any]]:
    """eq / neq / in / not_in over one value type."""
    one, many = TypeAdapter(single), TypeAdapter(_listed(single))
    return {"eq": one, "neq": one, "in": many, "not_in": many}


_text_ops = {op: TypeAdapter(Text) for op in ("eq", "contains", "starts_with")}
_time_ops: dict[str, TypeAdapter[Any]] = {
    "before": TypeAdapter(When),
    "after": TypeAdapter(When),
    "within_days": TypeAdapter(Days),
    "is_null": TypeAdapter(StrictBool),
}
_scalar = TypeAdapter(StrictBool | Integer | Number | Text)
_comparable = TypeAdapter(Integer | Number | Text)

# Pydantic reports a failed union once per member; say in one line what is accepted instead.
_UNION_PROBLEMS = {
    _scalar: "must be text (at most 200 characters), a finite number or true/false",
    _comparable: "must be a finite number, or text compared alphabetically (ISO dates compare correctly)",
}

FIELDS: dict[str, dict[str, TypeAdapter[Any]]] = {
    "tags": {
        "has": TypeAdapter(Tag),
        "has_all": TypeAdapter(_listed(Tag)),
        "has_any": TypeAdapter(_listed(Tag)),
        "has_none": TypeAdapter(_listed(Tag)),
    },
    "status": _adapters(ContactStatus),
    "priority": _adapters(Priority),
    "source": _adapters(Source),
    "country": _adapters(Country),
    "language": _adapters(Language),
    "name": _text_ops,
    "email": _text_ops,
    "phone": {op: TypeAdapter(PhoneQuery) for op in ("eq", "contains", "starts_with")},
    "created_at": _time_ops,
    "last_contacted_at": _time_ops,
    "opted_out": {"eq": TypeAdapter(StrictBool)},
}
CUSTOM_OPS: dict[str, TypeAdapter[Any]] = {
    "eq": _scalar,
    "neq": _scalar,
    "gt": _comparable,
    "gte": _comparable,
    "lt": _comparable,
    "lte": _comparable,
    "contains": TypeAdapter(Text),
    "exists": TypeAdapter(StrictBool),
}


class _LeafIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=80)
    op: str = Field(max_length=20)
    value: Any = None


# --- parsing ---------------------------------------------------------------------


def _first_error(error: PydanticValidationError, path: str) -> RuleError:
    first = error.errors()[0]
    where = ".".join([path, *(str(part) for part in first.get("loc", ()))])
    return RuleError(where, str(first.get("msg", "invalid")))


def _ops_for(field: str, path: str) -> dict[str, TypeAdapter[Any]]:
    if field.startswith(CUSTOM_PREFIX):
        if not CUSTOM_KEY.match(field[len(CUSTOM_PREFIX) :]):
            raise RuleError(f"{path}.field", "custom keys match ^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")
        return CUSTOM_OPS
    ops = FIELDS.get(field)
    if ops is None:
        known = ", ".join([*FIELDS, "custom.<key>"])
        raise RuleError(f"{path}.field", f"unknown field; one of {known}")
    return ops


def _leaf(raw: dict[str, Any], path: str) -> Leaf:
    try:
        leaf = _LeafIn.model_validate(raw)
    except PydanticValidationError as exc:
        raise _first_error(exc, path) from None
    ops = _ops_for(leaf.field, path)
    adapter = ops.get(leaf.op)
    if adapter is None:
        raise RuleError(f"{path}.op", f"not an operator of {leaf.field}; one of {', '.join(ops)}")
    try:
        value = adapter.validate_python(leaf.value)
    except PydanticValidationError as exc:
        if adapter in _UNION_PROBLEMS:
            raise RuleError(f"{path}.value", _UNION_PROBLEMS[adapter]) from None
        raise _first_error(exc, f"{path}.value") from None
    return Leaf(leaf.field, leaf.op, value)


def _parse(raw: Any, path: str, depth: int, leaves: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise RuleError(path, f"rules may nest at most {MAX_DEPTH} levels deep")
    if not isinstance(raw, dict):
        raise RuleError(path, 'must be an object: {"all": [...]}, {"any": [...]}, {"not": rule} or a field rule')
    if "field" in raw or "op" in raw:
        leaves[0] += 1
        if leaves[0] > MAX_LEAVES:
            raise RuleError(path, f"a rule tree may hold at most {MAX_LEAVES} field rules")
        return _leaf(raw, path)
    if len(raw) != 1 or next(iter(raw)) not in ("all", "any", "not"):
        raise RuleError(path, 'must have exactly one key of "all", "any", "not" (or be a field rule)')
    key, inner = next(iter(raw.items()))
    if key == "not":
        return Negation(_parse(inner, f"{path}.not", depth + 1, leaves))
    if not isinstance(inner, list):
        raise RuleError(f"{path}.{key}", "must be a list of rules")
    if key == "any" and not inner:
        raise RuleError(f"{path}.{key}", "needs at least one rule")
    if len(inner) > MAX_LEAVES:
        raise RuleError(f"{path}.{key}", f"a rule tree may hold at most {MAX_LEAVES} field rules")
    children = tuple(_parse(child, f"{path}.{key}.{i}", depth + 1, leaves) for i, child in enumerate(inner))
    return Group("all" if key == "all" else "any", children)


def parse_rules(raw: Any, path: str = "rules") -> Node:
    """Validate a rule tree (already decoded from JSON); RuleError names the bad node."""
    return _parse(raw, path, 1, [0])


def parse_rules_json(text: str, path: str = "rules") -> Node:
    """Decode and validate a rule tree sent as a JSON string (a query parameter)."""
    if len(text) > MAX_JSON_CHARS:
        raise RuleError(path, f"longer than {MAX_JSON_CHARS} characters")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise RuleError(path, "is not valid JSON") from None
    return parse_rules(raw, path)


# --- dumping ---------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def dump_rules(node: Node) -> dict[str, Any]:
    """The normalised JSON form of a validated tree (what a segment stores)."""
    if isinstance(node, Leaf):
        return {"field": node.field, "op": node.op, "value": _plain(node.value)}
    if isinstance(node, Negation):
        return {"not": dump_rules(node.rule)}
    return {node.mode: [dump_rules(child) for child in node.rules]}
