"""Bulk contact import speed: a messy CSV of N rows through the real import job on PostgreSQL.

Creates a throwaway PostgreSQL database, generates the file in a temp directory, then measures
(a) the raw COPY of the same file into a plain table without indexes (the ceiling), (b) reading and
shaping the rows in one process without a database (CSV + phone normalisation, no worker pool), and
(c) the full import through the job function (`greenline.imports.pipeline.run_import`, not HTTP):
staging with the phone worker pool, then the one apply transaction into the indexed `contacts`
table. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h
import psycopg
from sqlalchemy.engine import make_url

from greenline.config import Settings
from greenline.core import migrate
from greenline.core.counters import MemoryCounters
from greenline.core.principal import Principal
from greenline.core.runtime import build_runtime
from greenline.imports import apply, parallel, pipeline, service, upload
from greenline.imports.detect import HEAD_BYTES
from greenline.imports.normalize import Shaper, compile_plan
from greenline.imports.reader import open_records
from greenline.models import Tenant
from greenline.wiring import load_tasks

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_imports"
HEADER = ["Phone", "Full Name", "E-mail", "Tags", "City"]
MAPPING = {"Phone": "phone", "Full Name": "name", "E-mail": "email", "Tags": "tags", "City": "custom.city"}
US_AREAS = ["201", "212", "213", "305", "312", "415", "512", "617", "646", "702", "713", "718", "917", "929"]
log = logging.getLogger("bench.import_contacts")


class ManualRunner:
    """Keeps enqueued jobs instead of running them, so the benchmark runs the job in its own thread."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        self.jobs.append((name, kwargs))

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10**n)).zfill(n)


def _number(rng: random.Random) -> tuple[str, str]:
    """(spelling, kind) of a random number from one of five countries, in one of the ways people type it."""
    country = rng.randrange(5)
    if country == 0:
        area, exchange, line = rng.choice(US_AREAS), str(rng.randrange(200, 999)), _digits(rng, 4)
        return rng.choice(
            [f"+1{area}{exchange}{line}", f"({area}) {exchange}-{line}", f"{area}.{exchange}.{line}",
             f"+1 {area}-{exchange}-{line}", f"1 ({area}) {exchange} {line}"]
        ), "US"  # fmt: skip
    if country == 1:
        rest = f"79{rng.randrange(10)}{_digits(rng, 7)}"
        return rng.choice([f"+44 {rest[:4]} {rest[4:]}", f"0044{rest}", f"+44 ({rest[:4]}) {rest[4:]}"]), "GB"
    if country == 2:
        rest = f"9{_digits(rng, 8)}"
        return rng.choice([f"+55 11 {rest[:5]}-{rest[5:]}", f"+55 (11) {rest}", f"005511{rest}"]), "BR"
    if country == 3:
        rest = f"9{rng.randrange(6, 10)}{_digits(rng, 8)}"
        return rng.choice([f"+91 {rest[:5]} {rest[5:]}", f"+91-{rest}", f"0091 {rest}"]), "IN"
    rest = f"1512{_digits(rng, 7)}"
    return rng.choice([f"+49 {rest[:4]} {rest[4:]}", f"+49 ({rest[:4]}) {rest[4:]}", f"0049{rest}"]), "DE"


def generate(path: Path, rows: int, seed: int) -> dict[str, int]:
    """A messy CSV: mixed formats, ~3% repeated numbers, ~2% invalid numbers, ~1% bad emails."""
    rng = random.Random(seed)
    recent: list[str] = []
    planted = {"repeats": 0, "invalid": 0, "bad_email": 0}
    names = ["José Álvarez", "Zoë Müller", "Ana Conceição", "Priya Sharma", "John Smith", "Renée Dupont"]
    cities = ["São Paulo", "München", "London", "Mumbai", "New York", ""]
    tags = ["", "", "vip", "lead, newsletter", "customer"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            roll = rng.random()
            email = f"person{i}@example.com"
            if roll < 0.03 and recent:
                phone = rng.choice(recent)
                planted["repeats"] += 1
            elif roll < 0.05:
                phone = rng.choice(["12345", "n/a", "+1 (000) 000-0000", "555-CALL"])
                planted["invalid"] += 1
            else:
                phone, _ = _number(rng)
                if len(recent) < 1000:
                    recent.append(phone)
                else:
                    recent[rng.randrange(1000)] = phone
                if roll > 0.99:
                    email = "not-an-email"
                    planted["bad_email"] += 1
            writer.writerow([phone, rng.choice(names), email, rng.choice(tags), rng.choice(cities)])
    return planted


def raw_copy(url: str, path: Path) -> float:
    """Seconds to COPY the file as is into a plain table of text columns."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE raw_contacts (phone text, name text, email text, tags text, city text)")
        conn.commit()
        started = time.perf_counter()
        with cursor.copy("COPY raw_contacts FROM STDIN (FORMAT csv, HEADER true)") as copy, path.open("rb") as f:
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE raw_contacts")
    return elapsed


def read_and_shape(path: Path) -> tuple[float, int]:
    """Seconds to read and shape every row without a database (CSV parsing + phone normalisation)."""
    detected = {"columns": HEADER, "encoding": "utf-8", "delimiter": ",", "has_header": True}
    shape = Shaper(compile_plan(HEADER, MAPPING, []), "US").shape
    started, count = time.perf_counter(), 0
    with open_records(path, "csv", detected) as records:
        for number, cells in records:
            count += shape(number, cells) is not None
    return time.perf_counter() - started, count


def full_import(url: str, path: Path) -> dict[str, Any]:
    """The import job on the file, timed as a whole and for its single apply transaction."""
    settings = Settings.model_validate({"database_url": url, "log_level": "WARNING", "environment": "development"})
    migrate.upgrade(settings)
    load_tasks()
    runtime = build_runtime(settings, ManualRunner(), MemoryCounters())
    with runtime.task_session() as session:
        tenant = Tenant(name="Bench", slug="bench", settings={"default_country": "US"})
        session.add(tenant)
        session.flush()
        tenant_id = tenant.id
    upload.UPLOAD_DIR = path.parent / "uploads"
    stored_path = upload.UPLOAD_DIR / f"{tenant_id}.upload"
    stored_path.parent.mkdir(parents=True, exist_ok=True)
    stored_path.write_bytes(path.read_bytes())
    stored = upload.StoredUpload(
        path=stored_path, filename=path.name, size=stored_path.stat().st_size, head=path.read_bytes()[:HEAD_BYTES]
    )
    stored.line_breaks = stored_path.read_bytes().count(b"\n")
    stored.fields = {"mapping": json.dumps(MAPPING), "start": "true"}
    operator = Principal(user_id=None, tenant_id=tenant_id, role=None, permissions=frozenset())
    with runtime.task_session(tenant_id) as session:
        import_id = service.create_import(session, operator, stored).id

    timings: dict[str, float] = {}
    real_apply = apply._apply

    def timed_apply(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_apply(*args, **kwargs)
        finally:
            timings["apply_s"] = time.perf_counter() - started

    apply._apply = timed_apply  # type: ignore[assignment]
    started = time.perf_counter()
    status = pipeline.run_import(runtime, tenant_id, import_id)
    elapsed = time.perf_counter() - started
    with runtime.session(tenant_id) as session:
        result = service.get_import(session, import_id)
    runtime.close()
    return {
        "status": str(status),
        "elapsed_s": round(elapsed, 2),
        "apply_s": round(timings.get("apply_s", 0.0), 2),
        "read_stage_s": round(elapsed - timings.get("apply_s", 0.0), 2),
        "counts": {
            "processed": result.processed_rows,
            "created": result.created_count,
            "updated": result.updated_count,
            "skipped": result.skipped_count,
            "duplicates": result.duplicate_rows,
            "errors": result.error_count,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="data rows in the generated file")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL URL of a dedicated bench database")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("this benchmark measures PostgreSQL (COPY); give a postgresql+psycopg:// URL")
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp, h.database(args.database_url):
        path = Path(tmp) / "contacts.csv"
        log.info("generating %s rows", args.rows)
        started = time.perf_counter()
        planted = generate(path, args.rows, args.seed)
        generate_s = time.perf_counter() - started
        log.info("raw COPY")
        copy_s = raw_copy(args.database_url, path)
        log.info("read and shape (no database)")
        shape_s, shaped = read_and_shape(path)
        log.info("full import through the job")
        imported = full_import(args.database_url, path)
        machine = h.machine_info(args.database_url)
        size = path.stat().st_size
    result = {
        "benchmark": "import_contacts",
        "rows": args.rows,
        "raw_copy_rows_per_s": round(args.rows / copy_s),
        "read_and_shape_serial_rows_per_s": round(shaped / shape_s),
        "import_rows_per_s": round(args.rows / imported["elapsed_s"]),
        "import_over_raw_copy": round(copy_s / imported["elapsed_s"], 3),
        "timings_s": {
            "generate": round(generate_s, 2),
            "raw_copy": round(copy_s, 2),
            "read_and_shape_serial": round(shape_s, 2),
            "import": imported["elapsed_s"],
            "import_read_and_stage": imported["read_stage_s"],
            "import_apply_transaction": imported["apply_s"],
        },
        "import_status": imported["status"],
        "counts": imported["counts"],
        "planted": planted,
        "file_mb": round(size / 1e6, 1),
        "machine": {**machine, "note": "PostgreSQL runs on the same machine"},
        "parameters": {
            "rows": args.rows,
            "seed": args.seed,
            "batch_rows": pipeline.BATCH_ROWS,
            "policy": "skip",
            "phone_workers": parallel.MAX_WORKERS if args.rows >= parallel.PARALLEL_MIN_ROWS else 0,
            "default_country": "US",
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
