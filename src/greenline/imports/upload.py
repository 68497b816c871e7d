"""Receive a multipart upload by streaming it to disk, counting bytes as they arrive.

The request body is parsed incrementally (python-multipart's push parser), so a
200 MB file never sits in memory and an oversized one is refused as soon as it
crosses the limit, with nothing left behind on disk.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from greenline.core.errors import InvalidInput
from greenline.imports.detect import HEAD_BYTES, TooLarge, UnsupportedFile

# Module constants (not settings) so tests and operators can patch them; see the imports docstring.
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
UPLOAD_DIR = Path("var") / "imports"
MAX_FIELD_BYTES = 64 * 1024
FORM_FIELDS = frozenset(
    {"mapping", "policy", "default_tags", "delimiter", "encoding", "has_header", "start", "opt_in_source"}
)


@dataclass
class StoredUpload:
    """An upload saved on disk, with the form's text fields."""

    path: Path
    filename: str
    size: int = 0
    head: bytes = b""
    line_breaks: int = 0
    fields: dict[str, str] = field(default_factory=dict)


def too_large() -> TooLarge:
    limit_mb = MAX_UPLOAD_BYTES / (1024 * 1024)
    return TooLarge(f"file is larger than the {limit_mb:g} MB upload limit; split it into smaller files")


class _Form:
    """python-multipart callbacks: file bytes are queued for the disk, text fields kept (bounded)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.upload: StoredUpload | None = None
        self.fields: dict[str, str] = {}
        self.pending: list[bytes] = []
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._field: str | None = None
        self._is_file = False
        self._value = bytearray()

    def on_part_begin(self) -> None:
        self._disposition, self._field, self._is_file = b"", None, False
        self._value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if name != "file":
                raise InvalidInput(name or "file", "only the `file` field may carry a file")
            if self.upload is not None:
                raise InvalidInput("file", "send exactly one file")
            filename = os.path.basename(options[b"filename"].decode("utf-8", "replace").replace("\\", "/"))
            self.upload = StoredUpload(path=self.target, filename=(filename or "upload")[:255])
            self._is_file = True
        elif name not in FORM_FIELDS:
            expected = ", ".join(sorted(FORM_FIELDS))
            raise InvalidInput(name or "form", f"unknown field; expected file or one of {expected}")
        self._field = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            assert self.upload is not None
            self.upload.size += len(chunk)
            if self.upload.size > MAX_UPLOAD_BYTES:
                raise too_large()
            if len(self.upload.head) < HEAD_BYTES:
                self.upload.head = (self.upload.head + chunk)[:HEAD_BYTES]
            self.upload.line_breaks += chunk.count(b"\n")
            self.pending.append(chunk)
            return
        if len(self._value) + len(chunk) > MAX_FIELD_BYTES:
            raise InvalidInput(self._field or "form", f"longer than {MAX_FIELD_BYTES} bytes")
        self._value.extend(chunk)

    def on_part_end(self) -> None:
        if not self._is_file and self._field is not None:
            self.fields[self._field] = self._value.decode("utf-8", "replace")


async def receive_upload(request: Request, tenant_id: int) -> StoredUpload:
    """Stream the `file` part of a multipart request to UPLOAD_DIR/<tenant>/<uuid>.upload."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data":
        raise UnsupportedFile("send the file as multipart/form-data with a `file` field")
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidInput("content-type", "multipart boundary is missing")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + len(FORM_FIELDS) * MAX_FIELD_BYTES + 65536:
        raise too_large()

    directory = UPLOAD_DIR / str(tenant_id)
    await run_in_threadpool(directory.mkdir, parents=True, exist_ok=True)
    target = (directory / f"{uuid.uuid4().hex}.upload").resolve()
    form = _Form(target)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": form.on_part_begin,
            "on_part_data": form.on_part_data,
            "on_part_end": form.on_part_end,
            "on_header_field": form.on_header_field,
            "on_header_value": form.on_header_value,
            "on_header_end": form.on_header_end,
            "on_headers_finished": form.on_headers_finished,
        },
    )
    handle: IO[bytes] | None = None
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if form.pending:
                if handle is None:
                    handle = await run_in_threadpool(target.open, "wb")
                await run_in_threadpool(handle.write, b"".join(form.pending))
                form.pending.clear()
        parser.finalize()
        if parser.state != MultipartState.END:
            raise MultipartParseError("body ended before the closing boundary")
    except MultipartParseError:
        _discard(handle, target)
        raise InvalidInput("body", "is not valid multipart/form-data") from None
    except BaseException:
        _discard(handle, target)
        raise
    if handle is None:
        target.touch()
    else:
        handle.close()
    if form.upload is None:
        _discard(None, target)
        raise InvalidInput("file", "is required")
    form.upload.fields = form.fields
    return form.upload


def _discard(handle: IO[bytes] | None, path: Path) -> None:
    if handle is not None:
        handle.close()
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
