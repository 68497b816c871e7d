"""Shared benchmark plumbing: a throwaway database and server, and an httpx load generator.

Not a benchmark itself (run_all.py skips `_`-prefixed files).
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import socket
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

CLI = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "greenline")
HOST = "127.0.0.1"
ERROR_WORDS = ("error", "traceback", "exception")
log = logging.getLogger("bench")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def psql(url: str, sql: str) -> str:
    u = make_url(url)
    cmd = ["psql", "-h", u.host or HOST, "-p", str(u.port or 5432), "-U", u.username or "postgres", "-d", "postgres"]
    env = {**os.environ, **({"PGPASSWORD": u.password} if u.password else {})}
    return subprocess.run([*cmd, "-tAc", sql], env=env, check=True, capture_output=True, text=True).stdout.strip()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop (installed with uvicorn[standard]) makes the client cheaper, leaving more CPU to the server."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def machine_info(url: str) -> dict[str, Any]:
    postgres = url.startswith("postgresql")
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "database": make_url(url).get_backend_name(),
        "database_version": psql(url, "SHOW server_version") if postgres else sqlite3.sqlite_version,
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "note": "load generator and server share this machine's CPUs",
    }


def _percentile(ordered: list[float], pct: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))] if ordered else float("nan")


async def load(
    clients: list[httpx.AsyncClient], path: str, headers: dict[str, str], seconds: float, cap: int, pid: int
) -> dict[str, Any]:
    """One coroutine per client sends GET `path` back to back until the deadline or `cap` requests in all."""
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
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                continue
            statuses[str(response.status_code)] += 1
            latencies.append(time.perf_counter() - started)

    server_cpu, client_cpu, started = cpu_seconds(pid), time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed, server_after = time.perf_counter() - started, cpu_seconds(pid)
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


async def retries_until(client: httpx.AsyncClient, path: str, auth: dict[str, str], done: Callable[[Any], bool]) -> int:
    """GET `path` until it answers 200 and `done(body)`; return how many extra tries that took (bounded)."""
    for attempt in range(100):
        response = await client.get(path, headers=auth)
        if response.status_code == 200 and done(response.json()):
            return attempt
        log.warning("GET %s not consistent yet: %s %s", path, response.status_code, response.text[:200])
        await asyncio.sleep(0.02)
    raise RuntimeError(f"GET {path} never became consistent: {response.status_code} {response.text[:300]}")


@contextmanager
def database(url: str) -> Iterator[None]:
    """A PostgreSQL database created for the run and dropped after it (SQLite needs nothing)."""
    if not url.startswith("postgresql"):
        yield
        return
    name = make_url(url).database or ""
    if name in {"", "test", "postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to use database {name!r}; give a dedicated bench database")
    psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(url, f'CREATE DATABASE "{name}"')
    try:
        yield
    finally:
        psql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def greenline(env: dict[str, str], workdir: Path, *args: str) -> None:
    """Run a `greenline` CLI command (cwd=workdir, so no stray .env or ./var is picked up)."""
    done = subprocess.run([CLI, *args], env=env, cwd=workdir, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"greenline {args[0]} failed: {done.stdout[-1000:]} {done.stderr[-2000:]}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def server(env: dict[str, str], workdir: Path, startup_timeout: float) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`greenline serve` on a free port, logging to workdir/server.log; always stopped on exit."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    log_path, base_url = workdir / "server.log", f"http://{HOST}:{port}"
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(
            [CLI, "serve", "--host", HOST, "--port", str(port)], env=env, cwd=workdir, stdout=sink, stderr=sink
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not _answers(base_url + "/"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server not up (exit code {proc.poll()}): {log_path.read_text()[-2000:]}")
            time.sleep(0.2)
        log.info("server up at %s (pid %d)", base_url, proc.pid)
        yield base_url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def server_log_summary(log_path: Path, exit_code: int | None) -> dict[str, Any]:
    """The server logs at WARNING, so every line deserves a look."""
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return {
        "log_lines_at_warning": len(lines),
        "log_error_lines": sum(any(w in line.lower() for w in ERROR_WORDS) for line in lines),
        "log_samples": [line[:300] for line in lines[:5]],
        "exit_code": exit_code,  # -15 is normal: uvicorn re-raises SIGTERM after a graceful shutdown
    }
