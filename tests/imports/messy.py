"""A deterministic messy contact file whose expected import outcome is known row by row."""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import PhoneNumberFormat

from greenline.core.phones import PhoneError, normalize_phone

HEADER = ["Phone", "Full Name", "E-mail", "Tags", "City"]
# (country, national number template); '#' is a random digit. Checked with phonenumbers before use.
TEMPLATES = [
    ("US", "2125####3#"),
    ("US", "4154####2#"),
    ("GB", "7400######"),
    ("GB", "7911######"),
    ("BR", "119########"),
    ("BR", "219########"),
    ("IN", "98#########"),
    ("DE", "151########"),
    ("DE", "170#######"),
]
NAMES = ["José Álvarez", "Zoë Müller", "Ana Conceição", "Renée Dupont", "Priya Sharma", "John Smith", "François Pérez"]
NANP = re.compile(r"^\+1\d{10}$")
INVALID = ["12345", "not a phone", "+44 20 1234", "+1 (000) 000-0000", "555", "+999 123456789", "0044"]


@dataclass
class Messy:
    """Rows (with the header first) and what an import of them must produce."""

    rows: list[list[str]]
    default_country: str
    valid_e164: list[str] = field(default_factory=list)  # first occurrence of each number, in file order
    duplicate_rows: list[int] = field(default_factory=list)  # spreadsheet row numbers (header = 1)
    error_rows: dict[int, str] = field(default_factory=dict)  # row number -> column of the error

    @property
    def data_rows(self) -> int:
        return len(self.rows) - 1


def _number(rng: random.Random) -> phonenumbers.PhoneNumber:
    while True:
        country, template = rng.choice(TEMPLATES)
        national = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in template)
        number = phonenumbers.parse(national, country)
        if phonenumbers.is_valid_number(number):
            return number


def _spell(number: phonenumbers.PhoneNumber, rng: random.Random, default_country: str) -> str:
    """One of the ways people type a number: E.164, spaced, dashed, parenthesised, 00-prefixed, national."""
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    choices = [
        e164,
        international,
        international.replace(" ", "-"),
        f"  {international}  ",
        "00" + e164[1:],
        international.replace(" ", "", 1).replace(" ", " (", 1).replace(" ", ") ", 1),
    ]
    if phonenumbers.region_code_for_number(number) == default_country:
        national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        choices += [national, national.replace(" ", "."), national.replace("(", "").replace(") ", "-")]
    spelled = rng.choice(choices)
    assert normalize_phone(spelled, default_country) == e164, (spelled, e164)
    return spelled


def messy_file(rows: int = 3000, seed: int = 7, default_country: str = "US") -> Messy:
    """About 80% new numbers, 8% repeats spelled differently, 8% bad numbers, 4% bad emails."""
    rng = random.Random(seed)
    messy = Messy(rows=[HEADER], default_country=default_country)
    seen: list[phonenumbers.PhoneNumber] = []
    taken: set[str] = set()
    for i in range(rows):
        row_number = len(messy.rows) + 1
        name = rng.choice(NAMES)
        email = f"user{i}@example.com"
        tags = rng.choice(["", "vip", "vip, lead", "Lead;newsletter", "newsletter | VIP"])
        city = rng.choice(["São Paulo", "München", "London", "Mumbai", "New York", ""])
        roll = rng.random()
        if roll < 0.08 and seen:
            phone = _spell(rng.choice(seen), rng, default_country)
            messy.duplicate_rows.append(row_number)
        elif roll < 0.16:
            phone = rng.choice(INVALID)
            try:
                normalize_phone(phone, default_country)
                raise AssertionError(f"{phone} should be invalid")
            except PhoneError:
                messy.error_rows[row_number] = "Phone"
        else:
            number = _number(rng)
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            if e164 in taken:
                number = _number(rng)
                e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            if e164 in taken:
                continue
            phone = _spell(number, rng, default_country)
            if roll > 0.96:
                email = "not-an-email"
                messy.error_rows[row_number] = "E-mail"
            else:
                taken.add(e164)
                seen.append(number)
                messy.valid_e164.append(e164)
        messy.rows.append([phone, name, email, tags, city])
    assert len(messy.valid_e164) + len(messy.duplicate_rows) + len(messy.error_rows) == messy.data_rows
    return messy


def to_csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def to_xlsx(rows: list[list[str]]) -> bytes:
    """An .xlsx workbook of the rows; North American E.164 numbers become numeric cells, as Excel stores them."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    for row in rows:
        sheet.append([int(cell[1:]) if NANP.match(cell) else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
