"""Run every benchmark script in bench/ and collect their JSON into one list.

Each `bench/*.py` (except this file and `_`-prefixed helpers) must print exactly one JSON object to stdout.
The list is printed and written to bench/results/latest.json. Exits non-zero if any benchmark failed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
VENV_PYTHON = BENCH.parent / ".venv" / "bin" / "python"
TIMEOUT_SECONDS = 1800
log = logging.getLogger("bench.run_all")


def run_one(script: Path) -> dict[str, Any]:
    python = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
    log.info("running %s", script.name)
    started = time.monotonic()
    # stderr (progress logs) passes through; stdout must be the JSON object.
    with subprocess.Popen([python, str(script)], cwd=BENCH.parent, stdout=subprocess.PIPE, text=True) as child:
        try:
            stdout, _ = child.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.terminate()  # SIGTERM lets the benchmark stop its own server
            try:
                child.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
            return {"benchmark": script.stem, "error": f"timed out after {TIMEOUT_SECONDS} s"}
    if child.returncode != 0:
        return {"benchmark": script.stem, "error": f"exit code {child.returncode}"}
    try:
        result: dict[str, Any] = json.loads(stdout)
    except json.JSONDecodeError as exc:
        return {"benchmark": script.stem, "error": f"stdout is not JSON: {exc}", "stdout": stdout[-2000:]}
    result.setdefault("benchmark", script.stem)
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    scripts = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    results = [run_one(script) for script in scripts]
    out = BENCH / "results" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2)
    out.write_text(text + "\n")
    print(text)
    log.info("wrote %s", out.relative_to(BENCH.parent))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
