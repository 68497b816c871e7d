"""Contact list and segment count at 1,000,000 contacts in one tenant, on PostgreSQL, against `GET /`.

Creates a throwaway PostgreSQL database, runs `greenline migrate`, creates a tenant with an admin, loads N
synthetic contacts for it with COPY (as the owner connection), runs ANALYZE and starts `greenline serve`.
Then it measures, each serially (1 request in flight) and with `--concurrency` requests in flight:
`GET /` (baseline), `GET /api/v1/contacts/?limit=50` at page 1 and deep (a cursor ~5,000 pages in), and
`POST /api/v1/segments/count` for a tag. Prints one JSON object. Always stops the server and drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import _harness as h
import httpx
import psycopg
from sqlalchemy.engine import make_url

from greenline.core.pagination import decode_cursor, encode_cursor

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_contacts"
EMAIL, ROOT_EMAIL, PASSWORD = "bench-admin@bench.test", "bench-root@bench.test", "bench-password-123"
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
PAGE = 50
VIP_RULES = {"rules": {"all": [{"field": "tags", "op": "has", "value": "vip"}]}}
TARGETS = {"deep_over_page1_p50_max": 2.0, "segment_count_p50_ms_max": 300.0, "segment_count_p99_ms_max": 300.0}
log = logging.getLogger("bench.contacts_scale")


def owner_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_contacts(url: str, tenant_id: int, rows: int, seed: int) -> dict[str, Any]:
    """COPY `rows` contacts into the tenant: unique +1415xxxxxxx numbers, 20% "vip", 50% "newsletter".

    created_at goes back one minute per 10 rows from now, so groups of 10 share a timestamp (like an import
    does) and the (created_at, id) tie-breaker of the cursor matters.
    """
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    counts = {"vip": 0, "newsletter": 0}
    started = time.perf_counter()
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        columns = "tenant_id, phone, name, tags, custom_data, priority, status, created_at, updated_at"
        with cursor.copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
            chunk: list[str] = []
            for i in range(rows):  # bounded by --rows
                tags = []
                if rng.random() < 0.2:
                    tags.append("vip")
                    counts["vip"] += 1
                if rng.random() < 0.5:
                    tags.append("newsletter")
                    counts["newsletter"] += 1
                stamp = (now - dt.timedelta(minutes=(rows - 1 - i) // 10)).isoformat()
                phone = f"+1415{i:07d}"  # 10 digits after +1: unique for up to 10M rows
                chunk.append(
                    f"{tenant_id}\t{phone}\tContact {i}\t{json.dumps(tags)}\t{{}}\tmedium\tactive\t{stamp}\t{stamp}\n"
                )
                if len(chunk) == 20_000:
                    copy.write("".join(chunk))
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk))
        conn.commit()
        copy_s = time.perf_counter() - started
        conn.autocommit = True
        started = time.perf_counter()
        cursor.execute("ANALYZE contacts")
        analyze_s = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM contacts WHERE tenant_id = %s", (tenant_id,))
        loaded = cursor.fetchone()[0]  # type: ignore[index]
    return {"loaded": loaded, **counts, "copy_s": round(copy_s, 2), "analyze_s": round(analyze_s, 2)}


def cursor_at(url: str, tenant_id: int, offset: int) -> str:
    """The `next_cursor` the API would return for the page ending at row `offset` (0-based) in newest-first order."""
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT created_at, id FROM contacts WHERE tenant_id = %s ORDER BY created_at DESC, id DESC "
            "OFFSET %s LIMIT 1",
            (tenant_id, offset),
        )
        created_at, contact_id = cursor.fetchone()  # type: ignore[misc]
    return encode_cursor([created_at.isoformat(), contact_id])


def same_cursor(a: str, b: str) -> bool:
    (ta, ia), (tb, ib) = decode_cursor(a, 2), decode_cursor(b, 2)
    return ia == ib and dt.datetime.fromisoformat(ta) == dt.datetime.fromisoformat(tb)


def explain(url: str, tenant_id: int, sql: str) -> list[str]:
    """EXPLAIN ANALYZE as the app role, with the tenant set for row-level security (as the server runs it)."""
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SET ROLE greenline_app")
        cursor.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
        conn.rollback()
    return lines


async def load(
    clients: list[httpx.AsyncClient],
    send: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    seconds: float,
    cap: int,
    pid: int,
) -> dict[str, Any]:
    """Like `_harness.load`, for any request: each client sends back to back until the deadline or `cap`."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    issued, deadline = 0, time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < cap and time.perf_counter() < deadline:
            issued += 1
            started = time.perf_counter()
            try:
                response = await send(client)
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                continue
            statuses[str(response.status_code)] += 1
            latencies.append(time.perf_counter() - started)

    server_cpu, started = h.cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients))
    elapsed, server_after = time.perf_counter() - started, h.cpu_seconds(pid)
    ok, ordered = statuses.get("200", 0), sorted(latencies)
    server_s = server_after - server_cpu if server_cpu is not None and server_after is not None else float("nan")
    return {
        "requests": sum(statuses.values()),
        "ok": ok,
        "statuses": dict(statuses),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(h._percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(h._percentile(ordered, 99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "server_cpu_pct": round(100 * server_s / elapsed, 1),
    }


async def measure(args: argparse.Namespace, base_url: str, pid: int, deep_cursor: str, url: str) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=ONE_CONNECTION))
            for _ in range(args.concurrency)
        ]
        client = clients[0]
        login = await client.post("/api/v1/auth/login-json", json={"email": EMAIL, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tenant_id, auth = login.json()["tenant_id"], {"Authorization": f"Bearer {login.json()['access_token']}"}
        # The server commits after sending the response (see README), so wait until the session is visible.
        retries = await h.retries_until(client, "/api/v1/auth/me", auth, lambda _: True)

        # Check the constructed cursors against the API: page 1's next_cursor, and the deep page's first row.
        page1 = await client.get(f"/api/v1/contacts/?limit={PAGE}", headers=auth)
        assert page1.status_code == 200, page1.text
        assert same_cursor(page1.json()["next_cursor"], cursor_at(url, tenant_id, PAGE - 1)), "cursor encoding changed"
        deep_path = f"/api/v1/contacts/?limit={PAGE}&cursor={deep_cursor}"
        deep = await client.get(deep_path, headers=auth)
        assert deep.status_code == 200, deep.text[:500]
        assert len(deep.json()["items"]) == PAGE, deep.text[:500]
        count = await client.post("/api/v1/segments/count", json=VIP_RULES, headers=auth)
        assert count.status_code == 200, count.text

        def get(path: str, headers: dict[str, str]) -> Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]:
            return lambda c: c.get(path, headers=headers)

        phases = {
            "baseline": get("/", {}),
            "contacts_page1": get(f"/api/v1/contacts/?limit={PAGE}", auth),
            "contacts_deep": get(deep_path, auth),
            "segment_count_vip": lambda c: c.post("/api/v1/segments/count", json=VIP_RULES, headers=auth),
        }
        results: dict[str, Any] = {}
        for level, n in (("serial", 1), ("concurrent", args.concurrency)):
            results[level] = {}
            for name, send in phases.items():
                log.info("measuring %s with %d in flight", name, n)
                await load(clients[:n], send, args.warmup, args.max_requests, pid)
                results[level][name] = await load(clients[:n], send, args.duration, args.max_requests, pid)
        return {
            "results": results,
            "segment_count_returned": count.json()["count"],
            "deep_first_id": deep.json()["items"][0]["id"],
            "read_after_write_retries": retries,
            "tenant_id": tenant_id,
        }


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = args.database_url
    if not url.startswith("postgresql"):
        raise SystemExit("this benchmark measures PostgreSQL (COPY); give a postgresql+psycopg:// URL")
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
            log.info("loaded: %s", loaded)
            deep_offset = min(args.deep_pages * PAGE, args.rows - PAGE - 1) - 1
            deep_cursor = cursor_at(url, tenant_id, deep_offset)
            plans = {
                "contacts_page1": explain(url, tenant_id, _list_sql(tenant_id, None)),
                "contacts_deep": explain(url, tenant_id, _list_sql(tenant_id, deep_cursor)),
                "segment_count_vip": explain(
                    url,
                    tenant_id,
                    f"SELECT count(*) FROM contacts WHERE contacts.tenant_id = {tenant_id} "
                    """AND contacts.tags @> '["vip"]'::jsonb""",
                ),
            }
            machine = h.machine_info(url)
            with (
                h.server(env, workdir, args.startup_timeout) as (base_url, server),
                asyncio.Runner(loop_factory=(loop := h.loop_factory())) as runner,
            ):
                measured = runner.run(measure(args, base_url, server.pid, deep_cursor, url))
            server_info = h.server_log_summary(workdir / "server.log", server.returncode)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = measured["results"]

    def ratios(level: dict[str, Any]) -> dict[str, float]:
        base, page1 = level["baseline"], level["contacts_page1"]
        return {
            "deep_over_page1_p50": round(level["contacts_deep"]["p50_ms"] / page1["p50_ms"], 2),
            "deep_over_page1_p99": round(level["contacts_deep"]["p99_ms"] / page1["p99_ms"], 2),
            **{
                f"{name}_p50_over_baseline_p50": round(level[name]["p50_ms"] / base["p50_ms"], 1)
                for name in ("contacts_page1", "contacts_deep", "segment_count_vip")
            },
        }

    def met(level: dict[str, Any]) -> dict[str, bool]:
        seg = level["segment_count_vip"]
        return {
            "deep_within_2x_of_page1_p50": level["contacts_deep"]["p50_ms"]
            <= TARGETS["deep_over_page1_p50_max"] * level["contacts_page1"]["p50_ms"],
            "segment_count_p50_under_300ms": seg["p50_ms"] < TARGETS["segment_count_p50_ms_max"],
            "segment_count_p99_under_300ms": seg["p99_ms"] < TARGETS["segment_count_p99_ms_max"],
            "segment_count_equals_vip_rows": measured["segment_count_returned"] == loaded["vip"],
        }

    return {
        "benchmark": "contacts_scale",
        "results": results,
        "ratios": {level: ratios(results[level]) for level in results},
        "targets": TARGETS,
        "targets_met": {level: met(results[level]) for level in results},
        "segment_count": {"returned": measured["segment_count_returned"], "vip_rows_loaded": loaded["vip"]},
        "data": {**loaded, "deep_cursor_offset_rows": deep_offset + 1, "deep_first_id": measured["deep_first_id"]},
        "query_plans": plans,
        "machine": {**machine, "note": "load generator, server and PostgreSQL share this machine's CPUs"},
        "parameters": {
            "rows": args.rows,
            "seed": args.seed,
            "page_size": PAGE,
            "deep_pages": args.deep_pages,
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "max_requests": args.max_requests,
            "sort": "newest (created_at DESC, id DESC), the default",
            "tags": "20% vip, 50% newsletter, independent",
            "server": "greenline serve (uvicorn, 1 process, embedded mode)",
            "client": f"up to {args.concurrency} x httpx.AsyncClient(1 connection), "
            + ("uvloop" if loop else "asyncio"),
        },
        "server": {
            **server_info,
            "non_200_responses": {
                f"{level}.{name}": r["requests"] - r["ok"] for level in results for name, r in results[level].items()
            },
            "read_after_write_retries": measured["read_after_write_retries"],
        },
        "wall_s": round(time.perf_counter() - wall, 1),
    }


def _tenant_id(url: str) -> int:
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id FROM tenants ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != 1:
        raise RuntimeError(f"expected one tenant, found {ids}")
    return int(ids[0])


def _list_sql(tenant_id: int, cursor: str | None) -> str:
    """The list query the server runs (contacts/repository.py, core/pagination.py, tenant criteria of core/db.py)."""
    where = f"contacts.tenant_id = {int(tenant_id)}"
    if cursor:
        created_at, contact_id = decode_cursor(cursor, 2)
        where += (
            f" AND (contacts.created_at < '{created_at}' OR (contacts.created_at = '{created_at}'"
            f" AND contacts.id < {int(contact_id)}))"
        )
    return (
        "SELECT contacts.*, EXISTS (SELECT u.id FROM unsubscribers u WHERE u.tenant_id = contacts.tenant_id "
        f"AND u.phone = contacts.phone AND u.tenant_id = {int(tenant_id)}) AS opted_out FROM contacts "
        f"WHERE {where} ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT {PAGE + 1}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="contacts loaded into the tenant")
    parser.add_argument("--deep-pages", type=int, default=5_000, help="how many pages of 50 in the deep cursor is")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight in the concurrent runs")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per endpoint and level")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per endpoint and level first")
    parser.add_argument("--max-requests", type=int, default=100_000, help="hard cap on requests per phase")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL URL of a dedicated bench database")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup in `finally` on SIGTERM too
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
