"""The dashboard's contacts page in headless Chromium with 1,000,000 contacts in the tenant, on PostgreSQL.

Creates a throwaway PostgreSQL database, migrates it, creates a tenant with an admin, loads N contacts with
contacts_scale's COPY loader and starts `greenline serve` (which serves the built web/dist). Then it runs the
Node Playwright spec web/e2e/bench/contacts_timing.bench.ts against it: per round, a full load of `/` until
the home page shows (baseline), a click on "Contacts" until the first rows show, and a click on "Next"
until the next page shows. Also times `GET /` over HTTP, serially, in the same run. Prints one JSON object.
Needs `npm ci` in web/, a built web/dist (`make web`) and /usr/bin/chromium. Always stops the server and
drops the database.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h
import httpx
from contacts_scale import EMAIL, PASSWORD, ROOT_EMAIL, _tenant_id, load_contacts

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
SPEC_CONFIG = WEB / "e2e" / "bench" / "playwright.bench.config.ts"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard_contacts"
MARK = "BENCH_RESULT "
log = logging.getLogger("bench.dashboard_contacts")


def summary(samples: list[float], *, keep: bool = True) -> dict[str, Any]:
    ordered = sorted(samples)
    out: dict[str, Any] = {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "min_ms": round(ordered[0], 1),
        "max_ms": round(ordered[-1], 1),
    }
    if keep:
        out["samples_ms"] = [round(s, 1) for s in samples]
    return out


def http_baseline(base_url: str, requests: int) -> dict[str, Any]:
    """`GET /` (the dashboard's index.html) one request at a time, after a short warm-up."""
    samples = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for _ in range(5):
            client.get("/")
        for _ in range(requests):  # bounded by --http-requests
            started = time.perf_counter()
            response = client.get("/")
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"GET / answered {response.status_code}")
    return summary(samples, keep=False)


def browser_timings(base_url: str, rounds: int, timeout: float) -> dict[str, Any]:
    """Run the Playwright spec and parse the one result line it prints."""
    env = os.environ | {
        "BENCH_BASE_URL": base_url, "BENCH_EMAIL": EMAIL, "BENCH_PASSWORD": PASSWORD, "BENCH_ROUNDS": str(rounds),
    }  # fmt: skip
    done = subprocess.run(
        ["npx", "playwright", "test", "--config", str(SPEC_CONFIG)],
        cwd=WEB, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"playwright failed ({done.returncode}): {done.stdout[-3000:]} {done.stderr[-2000:]}")
    raw: dict[str, Any] = json.loads(lines[-1][len(MARK) :])
    return {
        "login_ms": raw["login_ms"],
        "rows_on_page": raw["rows_on_page"],
        "home_full_load": summary(raw["home_ms"]),
        "contacts_first_rows": summary(raw["first_rows_ms"]),
        "contacts_next_page": summary(raw["next_page_ms"]),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = args.database_url
    if not url.startswith("postgresql"):
        raise SystemExit("this benchmark measures PostgreSQL (COPY); give a postgresql+psycopg:// URL")
    if not (WEB / "dist" / "index.html").exists():
        raise SystemExit("web/dist is missing: run `make web` first")
    workdir = Path(tempfile.mkdtemp(prefix="greenline-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}
    env |= {"GREENLINE_DATABASE_URL": url, "GREENLINE_LOG_LEVEL": "WARNING", "GREENLINE_SECRET_KEY": "bench-" * 6}
    wall = time.perf_counter()
    try:
        with h.database(url):
            h.greenline(env, workdir, "migrate")
            h.greenline(env, workdir, "create-admin", "--email", ROOT_EMAIL, "--password", PASSWORD)
            h.greenline(env, workdir, "create-tenant", "Bench Co", "--admin-email", EMAIL, "--admin-password", PASSWORD)
            tenant_id = _tenant_id(url)
            log.info("loading %d contacts for tenant %d", args.rows, tenant_id)
            loaded = load_contacts(url, tenant_id, args.rows, args.seed)
            machine = h.machine_info(url)
            with h.server(env, workdir, args.startup_timeout) as (base_url, server):
                http = http_baseline(base_url, args.http_requests)
                browser = browser_timings(base_url, args.rounds, args.browser_timeout)
            server_info = h.server_log_summary(workdir / "server.log", server.returncode)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    first, baseline = browser["contacts_first_rows"]["p50_ms"], browser["home_full_load"]["p50_ms"]
    return {
        "benchmark": "dashboard_contacts",
        "machine": machine,
        "parameters": {
            "rows": args.rows,
            "rounds": args.rounds,
            "http_requests": args.http_requests,
            "seed": args.seed,
            "browser": "/usr/bin/chromium headless (Node Playwright)",
            "page_size": 50,
            "database": "postgresql",
        },
        "loaded": loaded,
        "results": {
            "browser": browser,
            "http_get_root": http,
            "ratios": {
                "first_rows_over_home_full_load_p50": round(first / baseline, 2) if baseline else None,
                "first_rows_over_http_get_root_p50": round(first / http["p50_ms"], 1) if http["p50_ms"] else None,
            },
        },
        "server": server_info,
        "wall_s": round(time.perf_counter() - wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="contacts loaded into the tenant")
    parser.add_argument("--rounds", type=int, default=5, help="browser rounds (full load, Contacts, Next)")
    parser.add_argument("--http-requests", type=int, default=200, help="serial GET / requests for the baseline")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument("--browser-timeout", type=float, default=600.0, help="seconds allowed for the Playwright run")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL URL of a dedicated bench database")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup in `finally` on SIGTERM too
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
