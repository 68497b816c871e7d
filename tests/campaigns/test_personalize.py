"""Template personalisation: variables and defaults, spintax, the sandbox, and the problems a tenant sees."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from greenline.campaigns.personalize import (
    MAX_LOOP_ITEMS,
    VARIABLES,
    TemplateProblem,
    compile_template,
    contact_context,
)
from greenline.models.contact import Contact

ANA: dict[str, Any] = {
    "first_name": "Ana",
    "last_name": "Silva",
    "name": "Ana Silva",
    "email": "",
    "tags": ["vip", "new"],
    "custom": {"plan": "Pro", "renewal": "2026-12-01T10:30:00", "items": "three", "orders": 0, "price": 12.345},
}


def render(source: str, context: dict[str, Any] | None = None, key: str = "1:1:1", **extra: Any) -> str:
    template = compile_template(source, extra_variables=extra.keys())
    return template.render({**(ANA if context is None else context), **extra}, variation_key=key)


def problem(source: str, **kwargs: Any) -> TemplateProblem:
    with pytest.raises(TemplateProblem) as caught:
        compile_template(source, **kwargs)
    return caught.value


# --- variables and defaults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", None])
def test_default_applies_to_empty_and_none_values(value: str | None) -> None:
    assert render('Hi {{ first_name | default("there") }}!', {"first_name": value}) == "Hi there!"


def test_default_applies_to_a_campaign_variable_that_was_not_supplied() -> None:
    template = compile_template('Use {{ coupon | default("WELCOME") }}', extra_variables=["coupon"])
    assert template.render({}, variation_key="k") == "Use WELCOME"
    assert template.render({"coupon": "SAVE10"}, variation_key="k") == "Use SAVE10"


def test_default_keeps_the_value_when_there_is_one_and_boolean_false_keeps_zero() -> None:
    assert render('Hi {{ first_name | default("there") }}') == "Hi Ana"
    assert render('{{ custom.orders | default("no") }} / {{ custom.orders | default("no", false) }}') == "no / 0"


def test_missing_values_render_as_nothing() -> None:
    assert (
        render("[{{ email }}][{{ custom.missing }}][{{ custom.missing.deeper }}]", {**ANA, "email": None}) == "[][][]"
    )


def test_custom_fields_by_attribute_and_by_key() -> None:
    assert render("{{ custom.plan }} {{ custom['plan'] }} {{ custom.items }}") == "Pro Pro three"


def test_contact_context_builds_the_documented_variables_from_a_contact() -> None:
    contact = Contact(
        phone="+5511987654321",
        name="  Maria  da Silva ",
        email=None,
        tags=["vip"],
        custom_data={"plan": "Pro", "city": "São Paulo", "company": "Acme"},
        country="BR",
        language="pt",
    )
    context = contact_context(contact)
    assert set(context) == VARIABLES
    source = "{{ first_name }}|{{ last_name }}|{{ name }}|{{ phone }}|{{ email }}|{{ company }}|{{ city }}"
    source += "|{{ country }}|{{ language }}|{{ tags | join(',') }}|{{ custom.plan }}"
    assert render(source, context) == "Maria|da Silva|Maria da Silva|+5511987654321||Acme|São Paulo|BR|pt|vip|Pro"


def test_contact_without_a_name_gets_the_default_greeting() -> None:
    context = contact_context(Contact(phone="+5511987654321", name=None, tags=[], custom_data={}))
    assert render('Hi {{ first_name | default("there") }}', context) == "Hi there"


def test_template_reports_the_variables_it_uses() -> None:
    template = compile_template("{Hi|Hey} {{ first_name }} {% for t in tags %}{{ t }}{% endfor %}")
    assert template.variables == {"first_name", "tags"}


# --- problems found when the campaign is saved ---------------------------------------------------------------


def test_unknown_variable_is_named_with_its_line_and_a_suggestion() -> None:
    found = problem("Hello\n{{ first_nme }}")
    assert found.message.startswith("unknown variable 'first_nme'")
    assert "first_name" in found.message
    assert (found.variable, found.line) == ("first_nme", 2)


def test_campaign_variables_are_allowed_only_when_declared() -> None:
    assert problem("{{ coupon }}").variable == "coupon"
    assert render("{{ coupon }}", coupon="SAVE10") == "SAVE10"


@pytest.mark.parametrize(
    ("source", "line"),
    [("Hello\n\n{{ first_name + }}", 3), ("Hi\n{% if first_name %}yes", 2), ("a\n{{ first_name", 2)],
)
def test_syntax_error_names_its_line(source: str, line: int) -> None:
    assert problem(source).line == line


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ cycler.__init__ }}",
        "{% for i in range(10**9) %}x{% endfor %}",
        "{{ first_name['__class__'] }}",
        "{{ custom.__class__.__mro__ }}",
        "{{ 2 ** 64 }}",
        "{{ lipsum() }}",
        "{{ first_name.upper() }}",
        "{% macro m() %}x{% endmacro %}",
        "{% call m() %}x{% endcall %}",
        "{% include 'other' %}",
        "{% import 'other' as o %}",
        "{% extends 'other' %}",
        "{% set x = 1 %}",
        "{% with x = 1 %}{% endwith %}",
        "{% filter upper %}x{% endfilter %}",
        "{% autoescape true %}x{% endautoescape %}",
        "{% for a in tags %}{% for b in tags %}x{% endfor %}{% endfor %}",
        "{% raw %}{{ x }}{% endraw %}",
        "{{ custom.renewal | date(**custom) }}",
    ],
)
def test_sandbox_escapes_and_unbounded_constructs_are_refused(source: str) -> None:
    assert problem(source).message


def test_refusals_say_what_is_wrong() -> None:
    assert problem("{{ ''.__class__ }}").message == "attribute '__class__' is not allowed"
    assert problem("{% for i in range(10) %}x{% endfor %}").message == "calling 'range' is not allowed"
    assert problem("{% include 'x' %}").message == "{% include %} is not allowed"


def test_filter_whitelist_names_the_refused_filter() -> None:
    found = problem("{{ first_name | center(80) }}")
    assert found.message.startswith("filter 'center' is not allowed")
    for name in ("attr", "map", "format", "pprint", "xmlattr"):
        assert f"'{name}'" in problem(f"{{{{ first_name | {name} }}}}").message


@pytest.mark.parametrize(
    "source",
    [
        "{{ custom.renewal | date(custom.plan) }}",
        "{{ custom.renewal | date('%0999999d') }}",
        "{{ custom.renewal | date('%c') }}",
        "{{ custom.renewal | date(format='%0999999d') }}",
    ],
)
def test_date_format_must_be_a_simple_literal(source: str) -> None:
    assert "date format" in problem(source).message


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ first_name | upper }}", "ANA"),
        ("{{ name | lower }}", "ana silva"),
        ("{{ 'ana silva' | title }}", "Ana Silva"),
        ("{{ 'ana' | capitalize }}", "Ana"),
        ("[{{ '  x  ' | trim }}]", "[x]"),
        ("{{ 'a long sentence here' | truncate(12, end='…', leeway=0) }}", "a long…"),
        ("{{ name | replace('Silva', 'S.') }}", "Ana S."),
        ("{{ custom.price | round(1) }}", "12.3"),
        ("{{ '42' | int + 1 }}", "43"),
        ("{{ '1.5' | float * 2 }}", "3.0"),
        ("{{ tags | join(', ') }}", "vip, new"),
        ("{{ tags | length }}", "2"),
        ("{{ tags | first }}-{{ tags | last }}", "vip-new"),
        ("{{ custom.renewal | date('%d/%m/%Y %H:%M') }}", "01/12/2026 10:30"),
        ("{{ custom.plan | date }}", "Pro"),
        ("{% if 'vip' in tags and tags | length is even %}VIP{% else %}other{% endif %}", "VIP"),
    ],
)
def test_allowed_filters_and_tests(source: str, expected: str) -> None:
    assert render(source) == expected


@pytest.mark.parametrize(
    ("source", "line"),
    [("{first_name}", 1), ("Hi\n{a|b", 2), ("a}", 1), ("{A {% if first_name %}|B{% endif %}}", 1)],
)
def test_spintax_problems_name_the_line(source: str, line: int) -> None:
    assert problem(source).line == line


@pytest.mark.parametrize("source", ["{" * 2000 + "a|b" + "}" * 2000, "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}"])
def test_deep_nesting_is_a_problem_not_a_crash(source: str) -> None:
    assert "nest" in problem(source).message


def test_single_braces_around_a_variable_point_to_double_braces() -> None:
    assert "{{ name }}" in problem("Hi {first_name}").message


@pytest.mark.parametrize("source", ["", "  \n "])
def test_empty_template_is_a_problem(source: str) -> None:
    assert problem(source).message == "the template is empty"


def test_source_longer_than_4096_characters_is_a_problem() -> None:
    assert compile_template("x" * 4096).render({}, variation_key="k") == "x" * 4096
    assert "4096" in problem("x" * 4097).message


# --- rendering -----------------------------------------------------------------------------------------------


def test_output_is_trimmed() -> None:
    assert render("\n  Hi {{ first_name }}  \n") == "Hi Ana"
    assert render("  just text \n") == "just text"


def test_message_longer_than_4096_characters_is_refused_at_render_time() -> None:
    template = compile_template("{{ custom.note }}")
    assert template.render({"custom": {"note": "n" * 4096}}, variation_key="k") == "n" * 4096
    with pytest.raises(TemplateProblem, match="4096"):
        template.render({"custom": {"note": "n" * 4097}}, variation_key="k")


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 5000 }}",
        "{{ '%099999d' % 1 }}",
        "{{ 'a' | replace('a', 'aaaaaaaa') | replace('a', 'aaaaaaaa') | replace('a', 'aaaaaaaa') "
        "| replace('a', 'aaaaaaaa') | replace('a', 'aaaaaaaa') }}",
        "{{ first_name + 1 }}",
    ],
)
def test_runtime_blowups_and_type_errors_become_template_problems(source: str) -> None:
    template = compile_template(source)
    with pytest.raises(TemplateProblem):
        template.render(ANA, variation_key="k")


def test_attributes_of_non_mapping_values_are_not_reachable() -> None:
    assert render("[{{ first_name.upper }}][{{ tags.append }}][{{ first_name[0] }}]") == "[][][A]"


def test_loops_stop_after_the_bound() -> None:
    context = {**ANA, "custom": {"many": list(range(10_000))}}
    assert render("{% for n in custom.many %}x{% endfor %}", context) == "x" * MAX_LOOP_ITEMS
    looped = "{% for t in tags %}{{ loop.index }}.{{ t }}{% if not loop.last %}, {% endif %}{% endfor %}"
    assert render(looped) == "1.vip, 2.new"


# --- spintax -------------------------------------------------------------------------------------------------


def test_spintax_is_deterministic_per_variation_key() -> None:
    source = "{Hi|Hello|Hey} {{ first_name }}, {good to see you|welcome back|nice to meet you}"
    first, again = compile_template(source), compile_template(source)
    for n in range(50):
        key = f"12:3:{n}"
        assert first.render(ANA, variation_key=key) == again.render(ANA, variation_key=key)
        assert first.render(ANA, variation_key=key) == first.render(ANA, variation_key=key)


def test_spintax_spreads_contacts_evenly_over_options() -> None:
    template = compile_template("{Hi|Hello|Hey}")
    counts = Counter(template.render({}, variation_key=f"7:1:{n}") for n in range(3000))
    assert set(counts) == {"Hi", "Hello", "Hey"}
    assert all(0.25 <= count / 3000 <= 0.42 for count in counts.values()), counts


def test_spintax_groups_vary_independently() -> None:
    template = compile_template("{a|b}{c|d}")
    counts = Counter(template.render({}, variation_key=f"7:1:{n}") for n in range(2000))
    assert set(counts) == {"ac", "ad", "bc", "bd"}
    assert all(count > 400 for count in counts.values()), counts


def test_nested_spintax() -> None:
    template = compile_template("{Hi|{Hello|Hey} there}!")
    seen = {template.render({}, variation_key=str(n)) for n in range(200)}
    assert seen == {"Hi!", "Hello there!", "Hey there!"}


def test_jinja_inside_spintax_options() -> None:
    template = compile_template('{Hi {{ first_name | default("x") }}|Hello {{ first_name | upper }}}')
    assert {template.render(ANA, variation_key=str(n)) for n in range(100)} == {"Hi Ana", "Hello ANA"}
    friendly = compile_template("{{{ first_name }}|friend}")
    assert {friendly.render(ANA, variation_key=str(n)) for n in range(100)} == {"Ana", "friend"}


def test_jinja_blocks_inside_spintax_options() -> None:
    template = compile_template("{{% if first_name %}Hi {{ first_name }}{% else %}Hi{% endif %}|Hey}")
    assert {template.render(ANA, variation_key=str(n)) for n in range(100)} == {"Hi Ana", "Hey"}


def test_escaped_braces_and_pipes_are_literal() -> None:
    assert render(r"\{not spintax\} a\|b {x|x}") == "{not spintax} a|b x"
    assert render(r"\{{{ first_name }}\} {Hi \| there|Hi \| there}") == "{Ana} Hi | there"
    assert render("a | b") == "a | b"


def test_jinja_braces_are_not_spintax() -> None:
    assert render('{{ "}" }}{{ "{" }} {% if tags | length > 1 %}many{% endif %} {# a {comment|x} #}') == "}{ many"
