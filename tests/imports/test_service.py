"""Pure logic of imports: phone fields, encoding/delimiter/header detection, mapping, row shaping."""

from __future__ import annotations

import codecs

import pytest

from greenline.core.errors import InvalidInput
from greenline.core.phones import PhoneError, parse_phone
from greenline.imports.detect import detect_delimiter, detect_encoding, detect_header
from greenline.imports.mapping import suggest_mapping, validate_mapping
from greenline.imports.normalize import MAX_NAME, Shaper, compile_plan
from greenline.imports.phones import phone_fields
from greenline.imports.report import _cell
from tests.imports.messy import INVALID, messy_file

CYRILLIC = "\u0438\u043c\u044f;\u0442\u0435\u043b\u0435\u0444\u043e\u043d\n\u0418\u0432\u0430\u043d;1\n" * 3


def test_phone_fields_agree_with_core_parse_phone() -> None:
    raws = [row[0] for row in messy_file(600, seed=3).rows[1:]] + INVALID + ["", "   ", "+800 1234 5678", "x" * 41]
    raws += ["+870 773 111 632", "+882 3421 2345"]
    for country in ("US", "BR", "GB", None):
        for raw in raws:
            got = phone_fields(raw, country)
            expected: object
            try:
                info = parse_phone(raw, country)
                country_code = None if info.country == "001" else info.country  # non-geographic: no country
                expected = (info.e164, country_code, info.timezone, info.language)
            except PhoneError as exc:
                expected = str(exc)
            assert got == expected, (raw, country)


@pytest.mark.parametrize(
    ("data", "country", "expected"),
    [
        pytest.param(codecs.BOM_UTF8 + "nome;telefone\nJoão;1\n".encode(), None, "utf-8-sig", id="utf8-bom"),
        pytest.param("name,phone\nZoë,1\n".encode("utf-16"), None, "utf-16", id="utf16-bom"),
        pytest.param("name,phone\nZoë,1\n".encode("utf-32"), None, "utf-32", id="utf32-bom"),
        pytest.param("name,phone\nZoë,1\n".encode(), None, "utf-8", id="utf8"),
        pytest.param("nome;telefone\nConceição;1\nJoão;2\n".encode("cp1252"), "BR", "cp1252", id="cp1252"),
        pytest.param("nome;telefone\nConceição;1\nJoão;2\n".encode("cp1252"), None, "cp1252", id="cp1252-default"),
        pytest.param("imię;telefon\nŁukasz Wójcik;1\nŻaneta Źrebiec;2\n".encode("cp1250"), "PL", "cp1250", id="cp1250"),
        pytest.param(CYRILLIC.encode("cp1251"), "RU", "cp1251", id="cp1251"),
    ],
)
def test_detect_encoding(data: bytes, country: str | None, expected: str) -> None:
    assert detect_encoding(data, country) == expected


def test_utf8_sample_cut_inside_a_character_is_still_utf8() -> None:
    sample = ("a" * 10 + "ção").encode()[:-1]
    assert detect_encoding(sample) == "utf-8"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_detect_delimiter(delimiter: str) -> None:
    lines = [delimiter.join(["phone", "name", "note"]), delimiter.join(["+1 415 555 0100", "Ann, Jr.", "x"])]
    lines += [delimiter.join(["+44 7911 123456", "Bo", "y"])]
    assert detect_delimiter(lines) == delimiter


def test_single_column_defaults_to_comma() -> None:
    assert detect_delimiter(["phone", "+14155550100", "+14155550101"]) == ","


def test_detect_header() -> None:
    assert detect_header([["Telefone", "Nome"], ["11 91234-5678", "Ana"]]) is True
    assert detect_header([["Something", "Else"], ["x", "y"]]) is True
    assert detect_header([["+55 11 91234-5678", "Ana"], ["+55 11 91234-5679", "Bia"]]) is False


def test_suggested_mapping_knows_common_headers_in_several_languages() -> None:
    columns = ["Telefone", "Nome", "E-mail", "Etiquetas", "Celular", "2nd line", "Prioridade"]
    assert suggest_mapping(columns, [], "BR") == {
        "Telefone": "phone",
        "Nome": "name",
        "E-mail": "email",
        "Etiquetas": "tags",
        "Celular": "custom.celular",
        "2nd line": "custom._2nd_line",
        "Prioridade": "priority",
    }


def test_full_name_wins_over_first_and_last_name() -> None:
    mapping = suggest_mapping(["Name", "First Name", "Phone"], [], None)
    assert mapping == {"Name": "name", "First Name": "custom.first_name", "Phone": "phone"}


def test_phone_column_found_by_content_when_no_header_says_so() -> None:
    preview = [["Ann", "+1 415 555 0100"], ["Bob", "(212) 555-0101"]]
    assert suggest_mapping(["column_1", "column_2"], preview, "US")["column_2"] == "phone"


def test_validate_mapping_drops_ignored_columns() -> None:
    columns = ["a", "b", "c", "d"]
    mapping = validate_mapping(columns, {"a": "phone", "b": None, "c": "", "d": "ignore"})
    assert mapping == {"a": "phone"}
    with pytest.raises(InvalidInput, match="either name or first_name"):
        validate_mapping(columns, {"a": "phone", "b": "name", "c": "first_name"})


def _shaper(**mapping: str) -> Shaper:
    columns = ["phone", "name", "email", "tags", "priority", "city"]
    return Shaper(compile_plan(columns, {"phone": "phone", **mapping}, ["Imported"]), "US")


def test_shaper_builds_a_staged_row() -> None:
    shaper = _shaper(name="name", email="email", tags="tags", priority="priority", city="custom.city")
    cells = ["(415) 555-0100", " Ann ", " ANN@Example.COM ", "vip; imported, VIP |  new  lead ", "HIGH", "Oslo"]
    row = shaper.shape(7, cells)
    assert row == (
        7, "+14155550100", "Ann", "ann@example.com", '["Imported", "vip", "new lead"]', '{"city": "Oslo"}',
        None, "high", "US", "America/Los_Angeles", "en", None, None, None,
    )  # fmt: skip


def test_shaper_rejects_with_the_column_and_reason() -> None:
    shaper = _shaper(name="name", email="email", tags="tags", priority="priority")
    bad_phone = shaper.shape(2, ["555", "Ann", "", "", "", ""])
    assert bad_phone is not None
    assert bad_phone[11:] == ("phone", "555", bad_phone[13])
    assert shaper.shape(3, ["+14155550100", "x" * (MAX_NAME + 1), "", "", "", ""])[11] == "name"  # type: ignore[index]
    assert shaper.shape(4, ["+14155550100", "", "nope", "", "", ""])[13] == "not an email address"  # type: ignore[index]
    assert "priority" in shaper.shape(5, ["+14155550100", "", "", "", "asap", ""])[13]  # type: ignore[index,operator]
    assert "50 characters" in shaper.shape(6, ["+14155550100", "", "", "t" * 51, "", ""])[13]  # type: ignore[index,operator]
    assert shaper.shape(7, ["", "", "", "", "", ""]) is None
    assert shaper.shape(8, [" ", "  "]) is None
    short = shaper.shape(9, ["+14155550100"])
    assert short is not None
    assert short[1] == "+14155550100"


def test_report_cells_cannot_become_spreadsheet_formulas() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("@SUM(1)") == "'@SUM(1)"
    assert _cell("+1 415 555 0100") == "+1 415 555 0100"
    assert _cell(None) == ""
