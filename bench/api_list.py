"""Throughput and latency of authenticated list endpoints against a real server, with `GET /` as baseline.

Starts `greenline serve` on a fresh database, seeds a tenant with API keys, then drives each endpoint with
a fixed number of concurrent httpx clients for a fixed time and prints one JSON object to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
EMAIL, PASSWORD = "bench-admin@bench.test", "bench-password-123"
ROOT_EMAIL = "bench-root@bench.test"
log = logging.getLogger("bench.api_list")


def _cli() -> str:
    local = REPO / ".venv" / "bin" / "greenline"
    return str(local) if local.exists() else shutil.which("greenline") or "greenline"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _psql(url: str, sql: str) -> str:
    u = make_url(url)
    cmd = ["psql", "-h", u.host or HOST, "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", "postgres"]
    env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
    return subprocess.run([*cmd, "-tAc", sql], env=env, check=True, capture_output=True, text=True).stdout.strip()


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))] if ordered else float("nan")


async def _load(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], seconds: float, max_requests: int, workers: int
) -> dict[str, Any]:
    """`workers` coroutines issue requests back to back until the deadline or the request budget is spent."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    issued = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal issued
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            started = time.perf_counter()
            try:
                response = await client.get(path, headers=headers)
                await response.aread()
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    ok = statuses.get("200", 0)
    ordered = sorted(latencies)
    return {
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": dict(statuses),
        "elapsed_s": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(_percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(_percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
    }


async def _retries_until(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], done: Callable[[Any], bool]
) -> int:
    """GET `path` until it answers 200 and `done(body)`; return how many extra tries that took (bounded)."""
    for attempt in range(100):
        response = await client.get(path, headers=headers)
        if response.status_code == 200 and done(response.json()):
            return attempt
        log.warning("GET %s not consistent yet: %s %s", path, response.status_code, response.text[:200])
        await asyncio.sleep(0.02)
    raise RuntimeError(f"GET {path} never became consistent: {response.status_code} {response.text[:300]}")


async def _measure(args: argparse.Namespace, base_url: str, server_pid: int) -> tuple[dict[str, Any], dict[str, int]]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
        login = await client.post("/api/v1/auth/login-json", json={"email": EMAIL, "password": PASSWORD})
        login.raise_for_status()
        tokens = login.json()
        tenant_id, auth = tokens["tenant_id"], {"Authorization": f"Bearer {tokens['access_token']}"}
        # The server commits after sending the response, so a write may not be visible to the next request yet.
        retries = {"me_after_login": await _retries_until(client, "/api/v1/auth/me", auth, lambda _: True)}
        for n in range(args.api_keys):
            body = {"name": f"bench key {n}", "rate_limit": 100_000}
            created = await client.post(f"/api/v1/tenants/{tenant_id}/api-keys", json=body, headers=auth)
            assert created.status_code == 201, created.text
        endpoints = {
            "baseline": ("/", {}),
            "api_keys": (f"/api/v1/tenants/{tenant_id}/api-keys", auth),
            "users": ("/api/v1/users/", auth),
        }
        retries["list_after_creates"] = await _retries_until(
            client, endpoints["api_keys"][0], auth, lambda body: len(body) == args.api_keys
        )
        results: dict[str, Any] = {}
        for name, (path, headers) in endpoints.items():
            log.info("measuring %s %s", name, path)
            await _load(client, path, headers, args.warmup, args.max_requests, args.concurrency)
            server_cpu, client_cpu = _cpu_seconds(server_pid), time.process_time()
            result = await _load(client, path, headers, args.duration, args.max_requests, args.concurrency)
            server_after = _cpu_seconds(server_pid)
            result["path"] = path if name == "baseline" else path.replace(str(tenant_id), "{tenant_id}")
            result["client_cpu_pct"] = round(100 * (time.process_time() - client_cpu) / result["elapsed_s"], 1)
            if server_cpu is not None and server_after is not None:
                result["server_cpu_pct"] = round(100 * (server_after - server_cpu) / result["elapsed_s"], 1)
            results[name] = result
        return results, retries


def _server_problems(log_path: Path) -> dict[str, Any]:
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    bad = [line for line in lines if any(word in line.lower() for word in ("error", "traceback", "exception"))]
    return {"log_lines": len(lines), "error_lines": len(bad), "error_samples": [line[:300] for line in bad[:5]]}


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="greenline-bench-"))
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    postgres = url.startswith("postgresql")
    if postgres:
        db_name = make_url(url).database or ""
        if db_name in {"", "test", "postgres", "template0", "template1"}:
            raise SystemExit(f"refusing to use database {db_name!r}; give a dedicated bench database")
        _psql(url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        _psql(url, f'CREATE DATABASE "{db_name}"')
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}
    env = {
        **inherited,
        "GREENLINE_DATABASE_URL": url,
        "GREENLINE_LOG_LEVEL": "WARNING",
        "GREENLINE_SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
    }
    port, server, log_path = _free_port(), None, workdir / "server.log"
    try:
        for cmd in (
            ["migrate"],
            ["create-admin", "--email", ROOT_EMAIL, "--password", PASSWORD],
            ["create-tenant", "Bench Co", "--admin-email", EMAIL, "--admin-password", PASSWORD],
        ):  # cwd=workdir so no stray .env or ./var is picked up
            subprocess.run([_cli(), *cmd], env=env, cwd=workdir, check=True, capture_output=True, timeout=120)
        with log_path.open("wb") as sink:
            server = subprocess.Popen(
                [_cli(), "serve", "--host", HOST, "--port", str(port)], env=env, cwd=workdir, stdout=sink, stderr=sink
            )
        base_url = f"http://{HOST}:{port}"
        deadline = time.monotonic() + args.startup_timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}: {log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer GET / in time")
            try:
                if httpx.get(base_url + "/", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        log.info("server up at %s (pid %d)", base_url, server.pid)
        results, retries = asyncio.run(_measure(args, base_url, server.pid))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
        problems = _server_problems(log_path)
        if postgres:
            _psql(url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    base_rps = results["baseline"]["rps"] or float("nan")
    non_200 = {name: r["requests"] - r["ok"] for name, r in results.items()}
    return {
        "benchmark": "api_list",
        "results": results,
        "ratios_vs_baseline": {
            f"{name}_rps_over_baseline_rps": round(results[name]["rps"] / base_rps, 3) for name in ("api_keys", "users")
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "database": "postgresql" if postgres else "sqlite",
            "database_version": _psql(url, "SHOW server_version") if postgres else sqlite3.sqlite_version,
            "note": "load generator and server share this machine's CPUs",
        },
        "parameters": {
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "max_requests": args.max_requests,
            "api_keys_listed": args.api_keys,
            "endpoints": {name: r["path"] for name, r in results.items()},
            "server": "greenline serve (uvicorn, 1 process)",
        },
        "server": {
            **problems,
            "non_200_responses": non_200,
            "read_after_write_retries": retries,
            "exit_code": server.returncode if server else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent requests in flight")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per endpoint first")
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard cap on requests per phase")
    parser.add_argument("--api-keys", type=int, default=20, help="API keys created before listing them")
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench_greenline")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
