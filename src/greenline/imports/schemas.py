from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from greenline.contacts.schemas import MAX_TAGS, normalize_tag
from greenline.imports.detect import is_text_encoding
from greenline.models.enums import ImportStatus, MergePolicy

DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|", "\\t": "\t"}


def _delimiter(value: object) -> object:
    return DELIMITER_NAMES.get(value.lower(), value) if isinstance(value, str) else value


def _encoding(value: str) -> str:
    if not is_text_encoding(value):
        raise ValueError("not a text encoding Python knows (e.g. utf-8, utf-16, cp1252, latin-1)")
    return value


def _tag(value: str) -> str:
    return normalize_tag(value)


ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Target = Annotated[str, StringConstraints(max_length=80)]
Mapping = Annotated[
    dict[ColumnName, Target | None],
    Field(
        max_length=200,
        description=(
            "File column -> contact field: phone (exactly one), name, first_name, last_name, email, tags, source, "
            "priority or custom.<key>; null or '' ignores the column. Status is never imported."
        ),
    ),
]
Delimiter = Annotated[str, BeforeValidator(_delimiter), StringConstraints(pattern=r"^[,;\t|]$")]
Encoding = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(_encoding)]
Tag = Annotated[str, StringConstraints(max_length=200), AfterValidator(_tag)]
OptInSource = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ImportSettings(BaseModel):
    """How to read the file and apply it; every field is optional (detection and suggestions fill the gaps)."""

    model_config = ConfigDict(extra="forbid")

    mapping: Mapping | None = None
    policy: MergePolicy | None = Field(None, description="For numbers that already exist (default skip)")
    default_tags: list[Tag] | None = Field(None, max_length=MAX_TAGS, description="Tags added to every row")
    delimiter: Delimiter | None = Field(None, description="One of , ; | or tab (detected when omitted)")
    encoding: Encoding | None = Field(None, description="Text encoding of a CSV (detected when omitted)")
    has_header: bool | None = Field(None, description="Whether the first row holds column names (detected)")
    opt_in_source: OptInSource | None = Field(None, description="Consent source recorded on new contacts")


class UploadForm(ImportSettings):
    """The text fields of the multipart upload."""

    start: bool = Field(False, description="Queue the import right away (with `mapping`, or the suggested one)")


class ImportSummary(BaseModel):
    id: int
    filename: str
    file_format: str
    file_size: int
    status: ImportStatus
    policy: MergePolicy
    total_rows: int | None
    processed_rows: int
    created_count: int
    updated_count: int
    skipped_count: int
    error_count: int
    duplicate_rows: int | None = Field(description="Rows skipped as repeats of an earlier row of the file")
    percent: float
    error: str | None
    cancel_requested: bool
    created_by: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class ImportOut(ImportSummary):
    """An import with what was detected in its file and the mapping it uses."""

    columns: list[str]
    preview: list[list[str]]
    suggested_mapping: dict[str, str]
    mapping: dict[str, str | None]
    encoding: str | None
    delimiter: str | None
    has_header: bool
    default_tags: list[str]
    opt_in_source: str | None


class ImportErrorOut(BaseModel):
    id: int
    row_number: int
    column: str | None
    value: str | None
    reason: str
