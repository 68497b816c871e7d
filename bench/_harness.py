"""Shared benchmark plumbing: a throwaway database and server, an httpx load generator and a raw one.

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
from typing import Any, cast

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


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU of a process and all its descendants (a multi-worker server's workers are children)."""
    total = cpu_seconds(pid)
    if total is None:
        return None
    try:
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return total
    return total + sum(tree_cpu_seconds(child) or 0.0 for child in children)


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
def server(
    env: dict[str, str], workdir: Path, startup_timeout: float, *serve_args: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`greenline serve` (plus `serve_args`) on a free port, logging to workdir/server.log; always stopped on exit."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    log_path, base_url = workdir / "server.log", f"http://{HOST}:{port}"
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(
            [CLI, "serve", "--host", HOST, "--port", str(port), *serve_args],
            env=env,
            cwd=workdir,
            stdout=sink,
            stderr=sink,
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


# --- a raw HTTP/1.1 load generator ---------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: write a prepared request, wait for the whole response.

    Far cheaper per request than an HTTP client library, so on a small machine the server, not the
    load generator, gets the CPU. It understands only what our server sends: Content-Length bodies.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.waiter.set_exception(ConnectionError("response without Content-Length"))
            self.waiter = None
            return
        stop = head.find(b"\r\n", at + 2)
        total = end + 4 + int(head[at + 17 : stop if stop > 0 else len(head)])
        if len(self.buffer) < total:
            return
        status, body = int(self.buffer[9:12]), bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


def raw_request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request, built before the timed phase."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def raw_load(
    port: int,
    requests: Callable[[], bytes | None],
    concurrency: int,
    seconds: float,
    pid: int,
    *,
    rate: float | None = None,
    extra_cpu: Callable[[], dict[int, float]] | None = None,
) -> dict[str, Any]:
    """Send `requests()` until it returns None or time is up, over `concurrency` keep-alive connections.

    Closed loop (`rate` None): each connection sends its next request when the previous answer has
    arrived, so `concurrency` requests are always in flight. Open loop (`rate` per second): request
    i is due at start + i / rate and goes out on the first idle connection; its latency counts from
    when it was due, so a server that falls behind is not hidden by a client that waits for it
    (no coordinated omission). CPU is measured for the client, the server with its worker
    processes, and the processes `extra_cpu` lists by pid (the database; one that exits meanwhile is not
    counted).
    """
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(concurrency):
        _, protocol = await loop.create_connection(_Connection, HOST, port)
        connections.append(protocol)
    latencies: list[float] = []
    send_lag: list[float] = []  # open loop: how late the client itself sent each request
    statuses: Counter[str] = Counter()
    samples: list[str] = []
    deadline = time.perf_counter() + seconds

    async def send(connection: _Connection, data: bytes, due: float) -> bool:
        try:
            status, body = await connection.request(data)
        except ConnectionError as exc:
            statuses[type(exc).__name__] += 1
            return False
        latencies.append(time.perf_counter() - due)
        statuses[str(status)] += 1
        if status != 200 and len(samples) < 5:
            samples.append(f"{status} {body[:200]!r}")
        return True

    async def drive(connection: _Connection) -> None:
        while time.perf_counter() < deadline and (data := requests()) is not None:
            if not await send(connection, data, time.perf_counter()):
                return

    async def schedule(per_second: float) -> None:
        idle: asyncio.Queue[_Connection] = asyncio.Queue()
        for connection in connections:
            idle.put_nowait(connection)
        in_flight: set[asyncio.Task[None]] = set()

        async def one(connection: _Connection, data: bytes, due: float) -> None:
            send_lag.append(time.perf_counter() - due)
            if await send(connection, data, due):
                idle.put_nowait(connection)

        begin, sent = time.perf_counter(), 0
        while time.perf_counter() < deadline and (data := requests()) is not None:
            due = begin + sent / per_second
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            task = asyncio.create_task(one(await idle.get(), data, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            sent += 1
        await asyncio.gather(*in_flight)

    server_cpu, client_cpu = tree_cpu_seconds(pid), time.process_time()
    other_cpu = extra_cpu() if extra_cpu else None
    started = time.perf_counter()
    try:
        if rate is None:
            await asyncio.gather(*(drive(c) for c in connections))
        else:
            await schedule(rate)
    finally:
        for connection in connections:
            if connection.transport is not None:
                connection.transport.close()
    elapsed = time.perf_counter() - started
    server_after = tree_cpu_seconds(pid)
    server_s = server_after - server_cpu if server_cpu is not None and server_after is not None else float("nan")
    ok, ordered = statuses.get("200", 0), sorted(latencies)
    result = {
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": dict(statuses),
        "error_samples": samples,
        "elapsed_s": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),  # 200 responses only
        "p50_ms": round(_percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(_percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "client_cpu_pct": round(100 * (time.process_time() - client_cpu) / elapsed, 1),
        "server_cpu_pct": round(100 * server_s / elapsed, 1),
        "server_cpu_ms_per_request": round(1000 * server_s / max(ok, 1), 3),
    }
    if rate is not None:
        lag = sorted(send_lag)
        result["offered_per_s"] = rate
        # Part of every latency above: time between a request falling due and the client writing it
        # (no idle connection, or the client process not running). High values mean a starved client.
        result["client_send_lag_p50_ms"] = round(_percentile(lag, 50) * 1000, 2)
        result["client_send_lag_p99_ms"] = round(_percentile(lag, 99) * 1000, 2)
    if extra_cpu is not None and other_cpu is not None:
        other_s = sum(seconds - other_cpu.get(pid, 0.0) for pid, seconds in extra_cpu().items())
        result["postgres_cpu_pct"] = round(100 * other_s / elapsed, 1)
    return result
