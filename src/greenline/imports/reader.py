"""Stream the data rows of a stored upload, in constant memory, with spreadsheet row numbers.

Row numbers count records the way a spreadsheet shows them: the header is row 1 and
blank rows still take a number, so a row number in the error report points at the
right line when the user opens the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from greenline.imports.detect import cell_text

Record = tuple[int, list[str]]


class FileProblem(Exception):
    """The file cannot be read past some point; the message is shown to the user as is."""


def _without_nul(lines: Iterator[str]) -> Iterator[str]:
    # NUL is never meaningful in a contact file and PostgreSQL cannot store it.
    for line in lines:
        yield line.replace("\x00", "") if "\x00" in line else line


@contextmanager
def open_records(path: Path, file_format: str, detected: dict[str, Any]) -> Iterator[Iterator[Record]]:
    """The file's data rows (header and blank rows left out) as (row_number, cells)."""
    if file_format == "xlsx":
        with _xlsx_records(path, bool(detected.get("has_header", True))) as records:
            yield records
        return
    encoding = detected.get("encoding") or "utf-8"
    with path.open("r", encoding=encoding, newline="") as handle:
        yield _csv_records(handle, str(detected.get("delimiter") or ","), bool(detected.get("has_header", True)))


def _csv_records(handle: Any, delimiter: str, has_header: bool) -> Iterator[Record]:
    reader = csv.reader(_without_nul(handle), delimiter=delimiter)
    number = 0
    header_pending = has_header
    try:
        for cells in reader:
            number += 1
            if not any(cells):
                continue
            if number == 1 and cells[0].startswith("\ufeff"):
                cells[0] = cells[0][1:]
            if header_pending:
                if any(c.strip() for c in cells):
                    header_pending = False
                continue
            yield number, cells
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"the file is not valid {handle.encoding} after row {number} ({exc.reason}); "
            "start the import again with the right `encoding` (for example cp1252)"
        ) from None
    except csv.Error as exc:
        raise FileProblem(f"the file is not a readable CSV near row {number + 1}: {exc}") from None


@contextmanager
def _xlsx_records(path: Path, has_header: bool) -> Iterator[Iterator[Record]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is reported as an unreadable workbook
        raise FileProblem(f"the workbook cannot be read: {type(exc).__name__}") from None
    try:
        sheet = workbook.worksheets[0]

        def records() -> Iterator[Record]:
            header_pending = has_header
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [cell_text(v) for v in values]
                if not any(c.strip() for c in cells):
                    continue
                if header_pending:
                    header_pending = False
                    continue
                yield number, cells

        yield records()
    finally:
        workbook.close()


def estimate_rows(file_format: str, line_breaks: int, path: Path) -> int | None:
    """A quick estimate of the data rows, for the progress bar until the exact count is known."""
    if file_format == "csv":
        return max(line_breaks, 1)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - an estimate is optional
        return None
    try:
        rows = workbook.worksheets[0].max_row
    finally:
        workbook.close()
    return rows if isinstance(rows, int) and rows > 0 else None
