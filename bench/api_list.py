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
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

CLI = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "greenline")
HOST = "127.0.0.1"
EMAIL, ROOT_EMAIL, PASSWORD = "bench-admin@bench.test", "bench-root@bench.test", "bench-password-123"
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
log = logging.getLogger("bench.api_list")


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


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop (installed with uvicorn[standard]) makes the client cheaper, leaving more CPU to the server."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))] if ordered else float("nan")


async def _load(
    clients: list[httpx.AsyncClient], path: str, headers: dict[str, str], seconds: float, cap: int, pid: int
) -> dict[str, Any]:
    """One coroutine per client sends requests back to back until the deadline or `cap` requests."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    issued, deadline = 0, time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < cap and time.perf_counter() < deadline:
            issued += 1
            started = time.perf_counter()
            try:
                response = await client.get(path, headers=headers)
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - started)

    server_cpu, client_cpu, started = _cpu_seconds(pid), time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed, server_after = time.perf_counter() - started, _cpu_seconds(pid)
    ok, ordered = statuses.get("200", 0), sorted(latencies)
    server_s = server_after - server_cpu if server_cpu is not None and server_after is not None else float("nan")
    return {
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": dict(statuses),
        "elapsed_s": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),  # 200 responses only
        "p50_ms": round(_percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(_percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "client_cpu_pct": round(100 * (time.process_time() - client_cpu) / elapsed, 1),
        "server_cpu_pct": round(100 * server_s / elapsed, 1),
        "server_cpu_ms_per_request": round(1000 * server_s / max(ok, 1), 3),
    }


async def _retries_until(
    client: httpx.AsyncClient, path: str, auth: dict[str, str], done: Callable[[Any], bool]
) -> int:
    """GET `path` until it answers 200 and `done(body)`; return how many extra tries that took (bounded)."""
    for attempt in range(100):
        response = await client.get(path, headers=auth)
        if response.status_code == 200 and done(response.json()):
            return attempt
        log.warning("GET %s not consistent yet: %s %s", path, response.status_code, response.text[:200])
        await asyncio.sleep(0.02)
    raise RuntimeError(f"GET {path} never became consistent: {response.status_code} {response.text[:300]}")


async def _measure(args: argparse.Namespace, base_url: str, pid: int) -> tuple[dict[str, Any], dict[str, int]]:
    async with AsyncExitStack() as stack:
        # One single-connection client per worker: one shared client's pool slows down sharply at 32 connections.
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=ONE_CONNECTION))
            for _ in range(args.concurrency)
        ]
        client = clients[0]
        login = await client.post("/api/v1/auth/login-json", json={"email": EMAIL, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tenant_id, token = login.json()["tenant_id"], login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        # The server commits after sending the response, so a write may not be visible to the next request yet.
        retries = {"me_after_login": await _retries_until(client, "/api/v1/auth/me", auth, lambda _: True)}
        keys_path = f"/api/v1/tenants/{tenant_id}/api-keys"
        for n in range(args.api_keys):
            created = await client.post(keys_path, json={"name": f"key {n}", "rate_limit": 100_000}, headers=auth)
            assert created.status_code == 201, created.text
        retries["list_after_creates"] = await _retries_until(client, keys_path, auth, lambda b: len(b) == args.api_keys)
        results: dict[str, Any] = {}
        for name, (path, headers) in {
            "baseline": ("/", {}),
            "api_keys": (keys_path, auth),
            "users": ("/api/v1/users/", auth),
        }.items():
            log.info("measuring %s %s", name, path)
            await _load(clients, path, headers, args.warmup, args.max_requests, pid)
            results[name] = await _load(clients, path, headers, args.duration, args.max_requests, pid)
            results[name]["path"] = path.replace(f"/tenants/{tenant_id}/", "/tenants/{tenant_id}/")
        return results, retries


@contextmanager
def _database(url: str) -> Iterator[None]:
    """A PostgreSQL database created for the run and dropped after it (SQLite needs nothing)."""
    if not url.startswith("postgresql"):
        yield
        return
    name = make_url(url).database or ""
    if name in {"", "test", "postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to use database {name!r}; give a dedicated bench database")
    _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(url, f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        _psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _server(
    env: dict[str, str], workdir: Path, startup_timeout: float
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`greenline serve` on a free port, logging to workdir/server.log; always stopped on exit."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    log_path, base_url = workdir / "server.log", f"http://{HOST}:{port}"
    with log_path.open("wb") as sink:
        server = subprocess.Popen(
            [CLI, "serve", "--host", HOST, "--port", str(port)], env=env, cwd=workdir, stdout=sink, stderr=sink
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not _answers(base_url + "/"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server not up (exit code {server.poll()}): {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        log.info("server up at %s (pid %d)", base_url, server.pid)
        yield base_url, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(tempfile.mkdtemp(prefix="greenline-bench-"))
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}  # no stray settings
    env |= {"GREENLINE_DATABASE_URL": url, "GREENLINE_LOG_LEVEL": "WARNING", "GREENLINE_SECRET_KEY": "bench-" * 6}
    try:
        with _database(url):
            for cmd in (
                ["migrate"],
                ["create-admin", "--email", ROOT_EMAIL, "--password", PASSWORD],
                ["create-tenant", "Bench Co", "--admin-email", EMAIL, "--admin-password", PASSWORD],
            ):  # cwd=workdir so no stray .env or ./var is picked up
                done = subprocess.run([CLI, *cmd], env=env, cwd=workdir, capture_output=True, text=True, timeout=120)
                if done.returncode != 0:
                    raise RuntimeError(f"greenline {cmd[0]} failed: {done.stdout[-1000:]} {done.stderr[-2000:]}")
            with _server(env, workdir, args.startup_timeout) as (base_url, server):
                with asyncio.Runner(loop_factory=(loop := _loop_factory())) as runner:
                    results, retries = runner.run(_measure(args, base_url, server.pid))
            lines = (workdir / "server.log").read_text(errors="replace").splitlines()
            db_version = _psql(url, "SHOW server_version") if url.startswith("postgresql") else sqlite3.sqlite_version
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base, lists = results["baseline"], [name for name in results if name != "baseline"]
    return {
        "benchmark": "api_list",
        "results": results,
        "ratios_vs_baseline": {
            **{f"{name}_rps_over_baseline_rps": round(results[name]["rps"] / base["rps"], 3) for name in lists},
            # Independent of the client's speed: server CPU per list request over server CPU per GET /.
            **{
                f"{name}_server_cpu_per_request_over_baseline": round(
                    results[name]["server_cpu_ms_per_request"] / base["server_cpu_ms_per_request"], 2
                )
                for name in lists
            },
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "database": make_url(url).get_backend_name(),
            "database_version": db_version,
            "load_avg_at_start": load_at_start,
            "note": "load generator and server share this machine's CPUs",
        },
        "parameters": {
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "max_requests": args.max_requests,
            "api_keys_listed": args.api_keys,
            "endpoints": {name: r["path"] for name, r in results.items()},
            "server": "greenline serve (uvicorn, 1 process, embedded mode)",
            "client": f"{args.concurrency} x httpx.AsyncClient(1 connection), " + ("uvloop" if loop else "asyncio"),
        },
        "server": {
            "log_lines_at_warning": len(lines),
            "log_error_lines": sum(
                any(w in line.lower() for w in ("error", "traceback", "exception")) for line in lines
            ),
            "log_samples": [line[:300] for line in lines[:5]],
            "non_200_responses": {name: r["requests"] - r["ok"] for name, r in results.items()},
            "read_after_write_retries": retries,
            "exit_code": server.returncode,  # -15 is normal: uvicorn re-raises SIGTERM after a graceful shutdown
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
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup in `finally` on SIGTERM too
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
