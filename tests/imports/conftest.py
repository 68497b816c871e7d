from __future__ import annotations

from pathlib import Path

import pytest

from greenline.imports import upload


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads go to the test's own directory instead of ./var/imports."""
    directory = tmp_path / "imports"
    monkeypatch.setattr(upload, "UPLOAD_DIR", directory)
    return directory
