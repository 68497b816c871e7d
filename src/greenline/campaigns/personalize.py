"""Message personalisation: sandboxed Jinja2 plus spintax, checked once and rendered per contact.

A tenant's template is untrusted text that the dispatcher renders for every recipient, so it is parsed and
checked when the campaign is saved (`compile_template` raises `TemplateProblem`, which the API answers with a
422) and compiled once; `Template.render` then only fills in values.

Syntax, in order of precedence:

- `\\{`, `\\}` and `\\|` are literal braces and a literal pipe.
- `{{ ... }}`, `{% ... %}` and `{# ... #}` are Jinja (`{{ first_name | default("there") }}`). A brace right
  before one of them opens spintax, so `{{{ first_name }}|friend}` is a choice between a name and "friend".
- Any other `{a|b|c}` is spintax: one option per message, chosen from a hash of the variation key, so a
  retried send renders the same text and contacts spread evenly over the options. Options may nest and may
  contain Jinja.

The sandbox is stricter than Jinja's own: no function calls, no `set`/`macro`/`include`/imports, no `**`,
attribute access only to mapping keys and loop counters, a whitelist of filters and tests, loops that cannot
nest and stop after `MAX_LOOP_ITEMS`, and operators that cannot build text longer than a message.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as JINJA_TESTS

from greenline.models.contact import Contact

MAX_SOURCE = 4096
MAX_OUTPUT = 4096  # WhatsApp's text message limit
MAX_LOOP_ITEMS = 100
MAX_INT_BITS = 4096
MAX_SPIN_DEPTH = 8

VARIABLES: frozenset[str] = frozenset(
    {"first_name", "last_name", "name", "phone", "email", "company", "city", "country", "language", "tags", "custom"}
)

DATE_FORMAT = re.compile(r"(?:[^%]|%[aAbBdHIjmMpSyYzZ%])*")
LOOP_ATTRIBUTES = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length"})
ALLOWED_TESTS = frozenset(
    {"defined", "undefined", "none", "number", "string", "even", "odd", "divisibleby", "in"}
    | {"eq", "ne", "lt", "le", "gt", "ge", "lower", "upper"}
)
JINJA_FILTER_NAMES = (
    *("upper", "lower", "title", "capitalize", "trim", "truncate"),
    *("round", "int", "float", "join", "length", "first", "last"),
)
LOOP_BOUND_FILTER = "_greenline_loop_bound"  # added around loop iterables after the check; users can't name it
FORBIDDEN_TAGS: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
    nodes.Block: "block",
    nodes.Assign: "set",
    nodes.AssignBlock: "set",
    nodes.With: "with",
    nodes.FilterBlock: "filter",
    nodes.Scope: "autoescape",
    nodes.ScopedEvalContextModifier: "autoescape",
    nodes.EvalContextModifier: "autoescape",
}
ALLOWED_NODES: frozenset[type[nodes.Node]] = frozenset(
    {nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.For, nodes.Const, nodes.Name}
    | {nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.CondExpr, nodes.Compare}
    | {nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Concat, nodes.Add, nodes.Sub}
    | {nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Tuple, nodes.List, nodes.Dict, nodes.Pair}
    | {nodes.Keyword}
)
BLOCK_OPENERS = {"if": "endif", "for": "endfor"}
BLOCK_CLOSERS = frozenset(BLOCK_OPENERS.values())
# Constant expressions, which Jinja folds at compile time: a literal brace in the text can't start a tag.
LITERAL_BRACES = {ord("{"): '{{ "{" }}', ord("}"): '{{ "}" }}'}
TAG_KEYWORD = re.compile(r"\{%[-+]?\s*(\w+)")


class TemplateProblem(Exception):
    """Why a template cannot be used, with the line and variable when there is one (rendered as a 422)."""

    def __init__(self, message: str, *, line: int | None = None, variable: str | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line
        self.variable = variable


# --- spintax -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Jinja:
    """A Jinja tag, kept verbatim."""

    source: str


@dataclass(frozen=True, slots=True)
class _Spin:
    """A spintax group; `index` numbers the groups in source order (the n-th random choice)."""

    index: int
    options: tuple[tuple[_Node, ...], ...]


_Node = str | _Jinja | _Spin


class _Scanner:
    """Splits a source into text, Jinja tags and spintax groups; Jinja itself is parsed later."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.group_sizes: list[int] = []
        self.has_jinja = False
        self.depth = 0

    def line(self, pos: int) -> int:
        return self.source.count("\n", 0, pos) + 1

    def scan(self) -> tuple[_Node, ...]:
        (nodes_,) = self._options(opened_at=None)
        return nodes_

    def _options(self, opened_at: int | None) -> list[tuple[_Node, ...]]:
        """Read up to the `}` closing the group opened at `opened_at` (or to the end at top level)."""
        source = self.source
        options: list[tuple[_Node, ...]] = []
        current: list[_Node] = []
        text: list[str] = []

        def flush() -> None:
            if text:
                current.append("".join(text))
                text.clear()

        while self.pos < len(source):
            char = source[self.pos]
            if char == "\\" and source[self.pos + 1 : self.pos + 2] in ("{", "}", "|"):
                text.append(source[self.pos + 1])
                self.pos += 2
            elif (
                char == "{"
                and source[self.pos + 1 : self.pos + 2] in ("{", "%", "#")
                and (source[self.pos + 1 : self.pos + 3] not in ("{{", "{%", "{#"))
            ):
                flush()
                current.append(_Jinja(self._jinja_tag()))
            elif char == "{":
                flush()
                current.append(self._group())
            elif char == "|" and opened_at is not None:
                flush()
                options.append(tuple(current))
                current = []
                self.pos += 1
            elif char == "}":
                if opened_at is None:
                    raise TemplateProblem("unmatched '}' (write \\} for a literal brace)", line=self.line(self.pos))
                flush()
                options.append(tuple(current))
                self.pos += 1
                return options
            else:
                text.append(char)
                self.pos += 1
        if opened_at is not None:
            raise TemplateProblem(
                "spintax '{' is never closed with '}' (write \\{ for a literal brace)", line=self.line(opened_at)
            )
        flush()
        options.append(tuple(current))
        return options

    def _group(self) -> _Spin:
        start = self.pos
        self.depth += 1
        if self.depth > MAX_SPIN_DEPTH:
            raise TemplateProblem(f"spintax nests more than {MAX_SPIN_DEPTH} levels deep", line=self.line(start))
        self.pos += 1
        index = len(self.group_sizes)
        self.group_sizes.append(0)
        options = self._options(opened_at=start)
        if len(options) < 2:
            snippet = self.source[start : self.pos]
            raise TemplateProblem(
                f"spintax {snippet[:40]!r} needs at least two options separated by '|' "
                "(write {{ name }} for a variable, \\{ and \\} for literal braces)",
                line=self.line(start),
            )
        for option in options:
            self._check_blocks(option, start)
        self.group_sizes[index] = len(options)
        self.depth -= 1
        return _Spin(index, tuple(options))

    def _check_blocks(self, option: tuple[_Node, ...], start: int) -> None:
        """An `{% if %}` or `{% for %}` must open and close inside the same spintax option."""
        expected: list[str] = []  # the closing keywords still owed, innermost last
        balanced = True
        for node in option:
            match = TAG_KEYWORD.match(node.source) if isinstance(node, _Jinja) else None
            keyword = match.group(1) if match else ""
            if keyword in BLOCK_OPENERS:
                expected.append(BLOCK_OPENERS[keyword])
            elif keyword in BLOCK_CLOSERS and (not expected or expected.pop() != keyword):
                balanced = False
        if not balanced or expected:
            raise TemplateProblem(
                "an {% if %} or {% for %} block must start and end inside the same spintax option",
                line=self.line(start),
            )

    def _jinja_tag(self) -> str:
        """Read one `{{ }}`, `{% %}` or `{# #}` tag, skipping quoted text and balanced brackets like Jinja."""
        source, start = self.source, self.pos
        self.has_jinja = True
        kind = source[start + 1]
        closer = {"{": "}}", "%": "%}", "#": "#}"}[kind]
        if kind == "#":
            end = source.find(closer, start + 2)
            if end < 0:
                raise TemplateProblem("'{#' is never closed with '#}'", line=self.line(start))
            self.pos = end + 2
            return source[start : self.pos]
        depth, quote, pos = 0, "", start + 2
        while pos < len(source):
            char = source[pos]
            if quote:
                if char == "\\":
                    pos += 1
                elif char == quote:
                    quote = ""
            elif depth == 0 and source.startswith(closer, pos):
                self.pos = pos + 2
                tag = source[start : self.pos]
                match = TAG_KEYWORD.match(tag)
                if match and match.group(1) == "raw":
                    raise TemplateProblem(
                        "{% raw %} is not supported; write \\{ and \\} for literal braces", line=self.line(start)
                    )
                return tag
            elif char in "'\"":
                quote = char
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                depth = max(0, depth - 1)
            pos += 1
        raise TemplateProblem(f"'{source[start : start + 2]}' is never closed with '{closer}'", line=self.line(start))


def _choice_names(count: int) -> tuple[str, ...]:
    return tuple(f"_spin{index}" for index in range(count))


def _jinja_source(nodes_: Iterable[_Node], out: list[str]) -> None:
    """Rewrite spintax as `{% if _spinN == k %}` chains; newlines stay put so Jinja's line numbers are the user's."""
    for node in nodes_:
        if isinstance(node, str):
            out.append(node.translate(LITERAL_BRACES))
        elif isinstance(node, _Jinja):
            out.append(node.source)
        else:
            last = len(node.options) - 1
            for number, option in enumerate(node.options):
                if number == 0:
                    out.append(f"{{% if _spin{node.index} == 0 %}}")
                elif number < last:
                    out.append(f"{{% elif _spin{node.index} == {number} %}}")
                else:
                    out.append("{% else %}")
                _jinja_source(option, out)
            out.append("{% endif %}")


def _spin_text(nodes_: Iterable[_Node], choices: Sequence[int], out: list[str]) -> None:
    """Render spintax without Jinja (templates that have no Jinja tags)."""
    for node in nodes_:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Spin):
            _spin_text(node.options[choices[node.index]], choices, out)


# --- sandbox -------------------------------------------------------------------------------------------------


class _Sandbox(ImmutableSandboxedEnvironment):
    """Attribute access reaches mapping keys and loop counters only; `*` and `%` can't blow up memory."""

    intercepted_binops = frozenset({"*", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict | Mapping):  # dict first: the common case, and much cheaper than the ABC check
            return self.getitem(obj, attribute)
        if isinstance(obj, LoopContext) and attribute in LOOP_ATTRIBUTES:
            return getattr(obj, attribute)
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        try:
            if isinstance(obj, dict | Mapping):
                return obj[argument]
            if isinstance(obj, str | list | tuple) and isinstance(argument, int | slice):
                return obj[argument]
        except (LookupError, TypeError):
            pass
        return self.undefined(obj=obj, name=argument)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and not (_is_number(left) and _is_number(right)):
            raise SecurityError("'%' works on numbers only")
        if operator == "*":
            sized, count = (left, right) if isinstance(left, str | list | tuple) else (right, left)
            if isinstance(sized, str | list | tuple) and isinstance(count, int) and len(sized) * count > MAX_OUTPUT:
                raise SecurityError(f"'*' would build something longer than {MAX_OUTPUT}")
            both_int = isinstance(left, int) and isinstance(right, int)
            if both_int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError("'*' would build a number too large to print")
        return super().call_binop(context, operator, left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finalize(value: Any) -> Any:
    """None prints as nothing, like a missing value."""
    return "" if value is None else value


def _default(value: Any, fallback: Any = "", boolean: bool = True) -> Any:
    """Like Jinja's `default(value, fallback, boolean=True)`: empty, None and missing values all take the fallback.

    `boolean=false` keeps falsy values such as 0 and only replaces missing and None ones.
    """
    if isinstance(value, Undefined) or value is None or (boolean and not value):
        return fallback
    return value


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    """str.replace that refuses to build more than a message's worth of text (chained replaces grow exponentially)."""
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if count is None else min(count, text.count(old))
    if len(text) + hits * (len(new) - len(old)) > MAX_OUTPUT:
        raise TemplateProblem(f"replace would build text longer than {MAX_OUTPUT} characters")
    return text.replace(old, new, -1 if count is None else count)


def _date(value: Any, format: str = "%Y-%m-%d") -> Any:
    """Format a date, a datetime or an ISO 8601 string; anything else is shown unchanged."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime(format) if isinstance(value, dt.date) else value


def _loop_bound(value: Any) -> list[Any]:
    return list(itertools.islice(value, MAX_LOOP_ITEMS))


FILTERS: dict[str, Any] = {name: JINJA_FILTERS[name] for name in JINJA_FILTER_NAMES}
FILTERS |= {"default": _default, "replace": _replace, "date": _date}
ALLOWED_FILTERS = frozenset(FILTERS)

_ENV = _Sandbox(undefined=ChainableUndefined, finalize=_finalize, autoescape=False, cache_size=0)
_ENV.globals.clear()  # range, cycler, joiner, namespace, lipsum, dict: nothing callable is reachable
_ENV.filters = {**FILTERS, LOOP_BOUND_FILTER: _loop_bound}
_ENV.tests = {name: JINJA_TESTS[name] for name in ALLOWED_TESTS}


class _Checker:
    """Walks a parsed template and refuses everything outside the whitelist, naming the problem and its line."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self.known = allowed
        self.used: set[str] = set()

    def check(self, tree: nodes.Template, spin_names: frozenset[str]) -> None:
        stored = {node.name for node in tree.find_all(nodes.Name) if node.ctx != "load"}
        loop = {"loop"} if any(True for _ in tree.find_all(nodes.For)) else set()
        self.known = self.allowed | stored | loop | spin_names
        self._visit(tree, loops=0)
        self.used -= spin_names | stored | loop

    def _visit(self, node: nodes.Node, loops: int) -> None:
        kind, line = type(node), node.lineno
        if kind in FORBIDDEN_TAGS:
            raise TemplateProblem(f"{{% {FORBIDDEN_TAGS[kind]} %}} is not allowed", line=line)
        if isinstance(node, nodes.Call):
            callee = f"'{node.node.name}'" if isinstance(node.node, nodes.Name) else "functions"
            raise TemplateProblem(f"calling {callee} is not allowed", line=line)
        if isinstance(node, nodes.Pow):
            raise TemplateProblem("the '**' operator is not allowed", line=line)
        if kind not in ALLOWED_NODES:
            raise TemplateProblem(f"{kind.__name__} expressions are not allowed", line=line)
        if isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
            raise TemplateProblem(f"'*' and '**' arguments to '{node.name}' are not allowed", line=line)
        if isinstance(node, nodes.Name) and node.ctx == "load":
            self._name(node.name, line)
        elif isinstance(node, nodes.Getattr):
            self._attribute(node.attr, line)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            self._attribute(node.arg.value, line)
        elif isinstance(node, nodes.Filter):
            self._filter(node)
        elif isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            raise TemplateProblem(f"test '{node.name}' is not allowed; use one of {_listing(ALLOWED_TESTS)}", line=line)
        elif isinstance(node, nodes.For):
            if loops or node.recursive:
                raise TemplateProblem("loops cannot be nested or recursive", line=line)
            loops += 1
        for child in node.iter_child_nodes():
            self._visit(child, loops)

    def _name(self, name: str, line: int) -> None:
        if name not in self.known:
            close = difflib.get_close_matches(name, sorted(self.allowed), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f"; use one of {_listing(self.allowed)}"
            raise TemplateProblem(f"unknown variable '{name}'{hint}", line=line, variable=name)
        self.used.add(name)

    @staticmethod
    def _attribute(name: str, line: int) -> None:
        if name.startswith("_"):
            raise TemplateProblem(f"attribute '{name}' is not allowed", line=line)

    @staticmethod
    def _filter(node: nodes.Filter) -> None:
        if node.name not in ALLOWED_FILTERS:
            message = f"filter '{node.name}' is not allowed; use one of {_listing(ALLOWED_FILTERS)}"
            raise TemplateProblem(message, line=node.lineno)
        if node.name == "date":
            formats = [*node.args, *(pair.value for pair in node.kwargs if pair.key == "format")]
            for fmt in formats:
                literal = fmt.value if isinstance(fmt, nodes.Const) and isinstance(fmt.value, str) else None
                if literal is None or not DATE_FORMAT.fullmatch(literal):
                    message = "the date format must be quoted text using %d %m %y %Y %b %B %a %A %H %I %M %S %p"
                    raise TemplateProblem(f'{message}, like "%d/%m/%Y"', line=node.lineno)


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def _bound_loops(tree: nodes.Template) -> None:
    """Every loop iterates over at most MAX_LOOP_ITEMS items, whatever the contact's data holds."""
    for loop in tree.find_all(nodes.For):
        bounded = nodes.Filter(loop.iter, LOOP_BOUND_FILTER, [], [], None, None, lineno=loop.lineno)
        bounded.set_environment(_ENV)
        loop.iter = bounded


# --- public API ----------------------------------------------------------------------------------------------


class Template:
    """A checked template: a constant, a spintax tree, or a compiled Jinja template, whichever is cheapest."""

    __slots__ = ("_choice_bytes", "_constant", "_group_sizes", "_jinja", "_spin_names", "_tree", "source", "variables")

    def __init__(
        self,
        source: str,
        tree: tuple[_Node, ...],
        group_sizes: Sequence[int],
        jinja: JinjaTemplate | None,
        variables: frozenset[str],
    ) -> None:
        self.source = source
        self.variables = variables  # the contact and campaign variables the template uses
        self._tree = tree
        self._group_sizes = tuple(group_sizes)
        self._spin_names = _choice_names(len(group_sizes))
        self._jinja = jinja
        # Enough hash bits that every group's choice is uniform and independent of the others.
        self._choice_bytes = (math.prod(group_sizes).bit_length() + 64 + 7) // 8
        static = not group_sizes and jinja is None
        self._constant = "".join(node for node in tree if isinstance(node, str)).strip() if static else None

    def render(self, context: Mapping[str, Any], *, variation_key: str) -> str:
        """The message for one contact; the same variation key always picks the same spintax options."""
        if self._constant is not None:
            return self._constant
        choices = self._choices(variation_key) if self._group_sizes else []
        if self._jinja is None:
            out: list[str] = []
            _spin_text(self._tree, choices, out)
            text = "".join(out)
        else:
            values = dict(context)
            values.update(zip(self._spin_names, choices, strict=True))
            try:
                # What Jinja's render() does, minus two copies of the context (it has no globals to merge).
                text = "".join(self._jinja.root_render_func(self._jinja.new_context(values, shared=True)))
            except TemplateProblem:
                raise
            except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
                raise TemplateProblem(f"cannot render the template: {exc}") from exc
        text = text.strip()
        if len(text) > MAX_OUTPUT:
            raise TemplateProblem(f"the message is {len(text)} characters long; the limit is {MAX_OUTPUT}")
        return text

    def _choices(self, variation_key: str) -> list[int]:
        number = int.from_bytes(hashlib.shake_256(variation_key.encode()).digest(self._choice_bytes), "big")
        choices = []
        for size in self._group_sizes:
            number, choice = divmod(number, size)
            choices.append(choice)
        return choices


def compile_template(source: str, *, extra_variables: Iterable[str] = ()) -> Template:
    """Check and compile a message template; raises TemplateProblem naming the first problem found."""
    if not source.strip():
        raise TemplateProblem("the template is empty")
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(f"the template is {len(source)} characters long; the limit is {MAX_SOURCE}")
    scanner = _Scanner(source)
    tree = scanner.scan()
    if not scanner.has_jinja:
        return Template(source, tree, scanner.group_sizes, None, frozenset())
    out: list[str] = []
    _jinja_source(tree, out)
    checker = _Checker(VARIABLES | frozenset(extra_variables))
    try:
        parsed = _ENV.parse("".join(out))
        checker.check(parsed, frozenset(_choice_names(len(scanner.group_sizes))))
        _bound_loops(parsed)
        jinja = _ENV.from_string(parsed)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"syntax error: {exc.message}", line=exc.lineno) from exc
    except RecursionError as exc:  # e.g. thousands of nested parentheses
        raise TemplateProblem("the template nests too deeply") from exc
    return Template(source, tree, scanner.group_sizes, jinja, frozenset(checker.used))


def contact_context(contact: Contact) -> dict[str, Any]:
    """The template variables of one contact; missing values are empty strings so `default` applies."""
    custom = dict(contact.custom_data or {})
    name = " ".join((contact.name or "").split())
    first, _, last = name.partition(" ")
    return {
        "first_name": _text(custom.get("first_name")) or first,
        "last_name": _text(custom.get("last_name")) or last,
        "name": name,
        "phone": contact.phone,
        "email": contact.email or "",
        "company": _text(custom.get("company")),
        "city": _text(custom.get("city")),
        "country": contact.country or "",
        "language": contact.language or "",
        "tags": list(contact.tags or ()),
        "custom": custom,
    }


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
