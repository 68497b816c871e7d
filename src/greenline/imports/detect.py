"""Look at a stored upload: its format, text encoding, delimiter, header row and columns.

Only the first 64 KB of a CSV (or the first rows of a workbook) are read, so detection
costs the same for 10 rows and for 1,000,000.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from greenline.core.errors import AppError, InvalidInput
from greenline.imports.mapping import known_target, suggest_mapping

SAMPLE_BYTES = 64 * 1024
# openpyxl keeps a workbook's shared strings in memory even in read-only mode: bound what it unpacks.
MAX_XLSX_UNPACKED_BYTES = 1024 * 1024 * 1024
HEAD_BYTES = 16  # enough for every magic number below
PREVIEW_ROWS = 5
MAX_COLUMNS = 200
DELIMITERS = ",;\t|"
XLSX_MAGIC = b"PK\x03\x04"

# Magic numbers of files people upload by mistake: refused with 415 before anything else.
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "a legacy Excel (.xls) or Office file; save it as .xlsx or CSV",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\x7fELF": "an executable",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The legacy Windows code page of a country, to break ties between single-byte encodings that
# decode a sample equally well (cp1250 and cp1252 often do); Western code page cp1252 otherwise.
_CODEPAGES = {
    "cp1250": ("AL", "BA", "CZ", "HR", "HU", "PL", "RO", "SI", "SK"),
    "cp1251": ("BG", "BY", "KZ", "MK", "RS", "RU", "UA"),
    "cp1253": ("GR", "CY"),
    "cp1254": ("TR", "AZ"),
    "cp1255": ("IL",),
    "cp1256": ("AE", "DZ", "EG", "IQ", "IR", "JO", "KW", "LB", "MA", "OM", "PK", "QA", "SA", "TN"),
    "cp1257": ("EE", "LT", "LV"),
    "cp1258": ("VN",),
    "cp874": ("TH",),
}
_COUNTRY_CODEPAGE = {country: page for page, countries in _CODEPAGES.items() for country in countries}


class UnsupportedFile(AppError):
    status = 415
    code = "unsupported_media_type"


class TooLarge(AppError):
    status = 413
    code = "payload_too_large"


@dataclass
class Detected:
    """What detection found; stored as the import's `detected` JSON."""

    file_format: str
    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool = True
    columns: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)
    suggested_mapping: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "file_format": self.file_format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "has_header": self.has_header,
            "columns": self.columns,
            "preview": self.preview,
            "suggested_mapping": self.suggested_mapping,
        }


def sniff_format(head: bytes) -> str:
    """`xlsx` or `csv` from the first bytes; known binary types are refused with 415."""
    if not head:
        raise InvalidInput("file", "is empty")
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UnsupportedFile(f"file is {what}; upload a CSV or XLSX file")
    return "csv"


def is_text_encoding(name: str) -> bool:
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False
    return bool(getattr(info, "_is_text_encoding", True))


def detect_encoding(sample: bytes, country: str | None = None) -> str:
    """BOM first, then UTF-8, then charset-normalizer's best guess (ties go to the country's code page)."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    if b"\x00" in sample:
        raise UnsupportedFile("file looks binary (NUL bytes without a UTF-16 byte order mark); upload CSV or XLSX")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(sample))
    if matches:
        least = min(match.chaos for match in matches)
        tied = [codecs.lookup(m.encoding).name for m in matches if m.chaos <= least + 0.01]
        for preferred in (_COUNTRY_CODEPAGE.get((country or "").upper(), "cp1252"), "cp1252"):
            if preferred in tied:
                return preferred
        return tied[0]
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin_1"


def detect_delimiter(lines: list[str]) -> str:
    """csv.Sniffer over the first lines; else the candidate found the same number of times on each line."""
    text = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    best, best_score = ",", 0
    for candidate in DELIMITERS:
        counts = [line.count(candidate) for line in lines if line.strip()]
        if counts and min(counts) > 0:
            score = min(counts) * (2 if len(set(counts)) == 1 else 1)
            if score > best_score:
                best, best_score = candidate, score
    return best


def looks_like_phone(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 7 and digits >= len(value.strip()) * 0.6


def detect_header(rows: list[list[str]]) -> bool:
    """A first row with a known column name, or without phone-like values above rows that have them."""
    if not rows:
        return True
    first = rows[0]
    if any(known_target(cell) is not None for cell in first):
        return True
    return not any(looks_like_phone(cell) for cell in first)


def column_names(header: list[str] | None, width: int) -> list[str]:
    """Header names made unique and non-empty; `column_N` for files without a header."""
    names: list[str] = []
    seen: set[str] = set()
    for i in range(width):
        raw = header[i].strip() if header is not None and i < len(header) else ""
        name = (raw or f"column_{i + 1}")[:120]
        base, n = name, 2
        while name in seen:
            name = f"{base[:110]}_{n}"
            n += 1
        seen.add(name)
        names.append(name)
    return names


# --- detection --------------------------------------------------------------------


def detect_csv(path: Path, options: dict[str, Any], country: str | None) -> Detected:
    """Detect encoding, delimiter and header from the start of a CSV file (given options win)."""
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    encoding: str = options.get("encoding") or detect_encoding(sample, country)
    delimiter: str | None = options.get("delimiter")
    has_header: bool | None = options.get("has_header")
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=False)
    text = text.lstrip("\ufeff").replace("\x00", "")
    lines = text.splitlines()
    if len(sample) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample is usually incomplete
    if not any(line.strip() for line in lines):
        raise InvalidInput("file", "is empty")
    delimiter = delimiter or detect_delimiter(lines[:50])
    try:
        rows = [row for row in csv.reader(lines[:200], delimiter=delimiter) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise InvalidInput("file", f"is not a readable CSV file ({exc})") from None
    return _finish("csv", rows, has_header, encoding=encoding, delimiter=delimiter)


def detect_xlsx(path: Path, has_header: bool | None) -> Detected:
    """Read the first rows of the workbook's first sheet."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            is_workbook = "xl/workbook.xml" in archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput("file", "is not a readable XLSX workbook (broken zip archive)") from None
    if not is_workbook:
        raise UnsupportedFile("file is a zip archive but not an XLSX workbook; upload a CSV or XLSX file")
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        limit_mb = MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)
        raise TooLarge(f"the workbook unpacks to more than {limit_mb} MB; save it as CSV and upload that")
    rows: list[list[str]] = []
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True, max_row=200):
                row = [cell_text(v) for v in values]
                if any(c.strip() for c in row):
                    rows.append(row)
        finally:
            workbook.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of errors on a damaged workbook
        raise InvalidInput("file", f"is not a readable XLSX workbook ({type(exc).__name__})") from None
    return _finish("xlsx", rows, has_header)


def cell_text(value: object) -> str:
    """A spreadsheet cell as text; whole-number floats (phones typed as numbers) lose the `.0`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)


def _finish(
    file_format: str,
    rows: list[list[str]],
    has_header: bool | None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Detected:
    if not rows:
        raise InvalidInput("file", "is empty")
    header = detect_header(rows) if has_header is None else has_header
    width = max(len(row) for row in rows[:50])
    if width > MAX_COLUMNS:
        raise InvalidInput("file", f"has {width} columns; at most {MAX_COLUMNS} are supported")
    data = rows[1:] if header else rows
    if not data:
        raise InvalidInput("file", "has a header but no data rows")
    preview = [[cell[:200] for cell in row] for row in data[:PREVIEW_ROWS]]
    return Detected(
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        has_header=header,
        columns=column_names(rows[0] if header else None, width),
        preview=preview,
    )


def detect(path: Path, file_format: str, options: dict[str, Any], default_country: str | None) -> Detected:
    """Detect everything about a stored upload (see `sniff_format`); user options (encoding, delimiter, header) win."""
    if file_format == "xlsx":
        found = detect_xlsx(path, options.get("has_header"))
    else:
        found = detect_csv(path, options, default_country)
    found.suggested_mapping = suggest_mapping(found.columns, found.preview, default_country)
    return found
