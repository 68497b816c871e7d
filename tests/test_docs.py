"""Documentation that must not drift from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_api_map_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_api_doc.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_seed_list_is_the_shared_one_when_available() -> None:
    shared = ROOT.parent / "shared" / "tools" / "seed_api_endpoints.txt"
    if shared.exists():
        assert (ROOT / "docs" / "seed_endpoints.txt").read_text() == shared.read_text()
