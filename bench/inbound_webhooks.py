"""Signed Cloud API status webhooks against a real server on PostgreSQL, with `GET /` as baseline.

Seeds outbound messages in state `sent`, then POSTs one signed `delivered` status per message to
`/api/v1/webhooks/whatsapp`: first closed loop (`--concurrency` in flight, the most it can take),
then open loop at `--rate` per second (latency at the target rate, measured from when each request
was due). `GET /` is measured with the same raw HTTP/1.1 client and connections. After each phase
it waits (bounded) until the background processor has applied every stored event, and checks that
every status reached its message. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import _harness as h
import httpx
import psycopg
from sqlalchemy.engine import make_url

from greenline.channels.signatures import sign_meta

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_inbound"
EMAIL, ROOT_EMAIL, PASSWORD = "bench-admin@bench.test", "bench-root@bench.test", "bench-password-123"
APP_SECRET = "bench-app-secret-0123456789"
PHONE_NUMBER_ID = "106540352242922"
RECIPIENT = "14155550100"
WEBHOOK = "/api/v1/webhooks/whatsapp"
TARGET_RPS, TARGET_P99_MS = 2000.0, 50.0
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning)\b")
HEX_ADDRESS = re.compile(r"0x[0-9a-f]+")
log = logging.getLogger("bench.inbound_webhooks")


def status_payload(wamid: str, ts: int) -> dict[str, Any]:
    """One `delivered` status, in the shape of tests/inbound/helpers.py `status()`."""
    item = {"id": wamid, "status": "delivered", "timestamp": str(ts), "recipient_id": RECIPIENT}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [item],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def signed_requests(prefix: str, n: int) -> list[bytes]:
    """Whole HTTP requests, built before the timed phase: the client spends no CPU on JSON or HMAC while measuring."""
    requests = []
    for i in range(n):
        raw = json.dumps(status_payload(f"{prefix}{i}", 1750030073 + i % 1000)).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign_meta(APP_SECRET, raw)}
        requests.append(h.raw_request("POST", WEBHOOK, raw, headers))
    return requests


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU of every `postgres` process on the machine by pid (other users' queries included)."""
    found: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() != "postgres":
                    continue
            except OSError:
                continue
            found[int(proc.name)] = h.cpu_seconds(int(proc.name)) or 0.0
    return found


async def post_all(
    port: int, requests: list[bytes], args: argparse.Namespace, pid: int, rate: float | None = None
) -> dict[str, Any]:
    """Every prepared webhook once over `args.concurrency` connections (closed loop, or open at `rate`/s)."""
    pending = iter(requests)
    result = await h.raw_load(
        port,
        lambda: next(pending, None),
        args.concurrency,
        args.max_seconds,
        pid,
        rate=rate,
        extra_cpu=postgres_cpu_seconds,
    )
    return {**result, "path": WEBHOOK}


async def get_root(port: int, seconds: float, args: argparse.Namespace, pid: int) -> dict[str, Any]:
    """`GET /` back to back for `seconds` (at most `args.max_requests`), with the same client and concurrency."""
    request, left = h.raw_request("GET", "/"), args.max_requests

    def next_request() -> bytes | None:
        nonlocal left
        left -= 1
        return request if left >= 0 else None

    return {**await h.raw_load(port, next_request, args.concurrency, seconds, pid), "path": "/"}


def probe_commits(url: str, n: int = 200) -> dict[str, Any]:
    """Latency of one-row INSERT + COMMIT round trips: the floor under each group-commit batch."""
    u = make_url(url)
    timings = []
    with psycopg.connect(host=u.host or h.HOST, port=u.port or 5432, user=u.username, dbname=u.database) as conn:
        conn.execute("CREATE TABLE bench_commit_probe (id bigserial PRIMARY KEY, payload jsonb)")
        conn.commit()
        for _ in range(n):
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_commit_probe (payload) VALUES ('{}')")
            conn.commit()
            timings.append(time.perf_counter() - started)
        setting = conn.execute("SHOW synchronous_commit").fetchone()
    ordered = sorted(timings)
    return {
        "commits": n,
        "p50_ms": round(h._percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(h._percentile(ordered, 99) * 1000, 2),
        "synchronous_commit": setting[0] if setting else None,
    }


def log_digest(log_path: Path) -> dict[str, int]:
    """Distinct server log events with the last line of their exception, counted (the samples are truncated)."""
    counts: Counter[str] = Counter()
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            counts[line[:200]] += 1
            continue
        # The exception's own line (SQLAlchemy appends the SQL and its parameters after it).
        exc = [x for x in str(record.get("exception") or "").splitlines() if EXCEPTION_LINE.match(x)]
        counts[f"{record.get('event')}: {HEX_ADDRESS.sub('0x…', exc[-1][:300]) if exc else ''}".rstrip(": ")] += 1
    return dict(counts.most_common(10))


def apply_state(dsn_args: list[str], tenant_id: int) -> dict[str, int]:
    """Counts straight from PostgreSQL (superuser, so row-level security does not hide anything)."""
    sql = (
        f"SELECT (SELECT count(*) FROM messages WHERE tenant_id = {tenant_id} AND status = 'delivered'),"
        f" (SELECT count(*) FROM messages WHERE tenant_id = {tenant_id} AND delivered_at IS NOT NULL),"
        " (SELECT count(*) FROM inbound_events),"
        " (SELECT count(*) FROM inbound_events WHERE processed_at IS NOT NULL),"
        " (SELECT count(*) FROM inbound_events WHERE attempts > 0 OR error IS NOT NULL),"
        " (SELECT count(*) FROM unmatched_statuses)"
    )
    out = subprocess.run([*dsn_args, "-tAc", sql], check=True, capture_output=True, text=True).stdout.strip()
    keys = ("messages_delivered", "messages_with_delivered_at", "events_stored", "events_processed",
            "events_with_errors", "unmatched_statuses")  # fmt: skip
    return dict(zip(keys, (int(x) for x in out.split("|")), strict=True))


async def measure(args: argparse.Namespace, url: str, base_url: str, pid: int) -> dict[str, Any]:
    u = make_url(url)
    psql_db = [
        "psql",
        "-h",
        u.host or h.HOST,
        "-p",
        str(u.port or 5432),
        "-U",
        u.username or "postgres",
        "-d",
        u.database or "",
    ]
    port = int(base_url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        login = await client.post("/api/v1/auth/login-json", json={"email": EMAIL, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tenant_id, auth = login.json()["tenant_id"], {"Authorization": f"Bearer {login.json()['access_token']}"}
        # The server commits after sending the response (see README), so wait for the session to be visible.
        retries = {"me_after_login": await h.retries_until(client, "/api/v1/auth/me", auth, lambda _: True)}
        number = {
            "name": "Bench",
            "display_number": "+14155552671",
            "channel": "cloud",
            "cloud": {"phone_number_id": PHONE_NUMBER_ID, "access_token": "EAAG-bench-token-123",
                      "base_url": "http://127.0.0.1:9"},
        }  # fmt: skip
        created = await client.post("/api/v1/whatsapp/numbers", json=number, headers=auth)
        assert created.status_code == 201, created.text
        sender_id = created.json()["id"]
        retries["number_after_create"] = await h.retries_until(
            client, f"/api/v1/whatsapp/numbers/{sender_id}", auth, lambda _: True
        )

        log.info("seeding %d + %d + %d warm-up messages", args.messages, args.rate_messages, args.warmup_webhooks)
        seed = (
            f"BEGIN; SET LOCAL app.unscoped = 'on';"
            f" WITH c AS (INSERT INTO contacts (phone, name, tags, custom_data, priority, status, tenant_id,"
            f" created_at, updated_at) VALUES ('+{RECIPIENT}', 'Bench', '[]', '{{}}', 'medium', 'active',"
            f" {tenant_id}, now(), now()) RETURNING id)"
            f" INSERT INTO messages (contact_id, direction, kind, body, status, provider_message_id, created_at,"
            f" queued_at, sent_at, tenant_id, sender_number_id)"
            f" SELECT c.id, 'outbound', 'text', 'bench', 'sent', p || i, now(), now(), now(), {tenant_id}, {sender_id}"
            f" FROM c, (SELECT 'wamid.bench.' AS p, generate_series(0, {args.messages - 1}) AS i"
            f"  UNION ALL SELECT 'wamid.warm.', generate_series(0, {args.warmup_webhooks - 1})"
            f"  UNION ALL SELECT 'wamid.rate.', generate_series(0, {args.rate_messages - 1})) s;"
            f" COMMIT; ANALYZE messages;"
        )
        subprocess.run([*psql_db, "-qc", seed], check=True, capture_output=True, text=True)
        total = args.messages + args.warmup_webhooks + args.rate_messages

        async def wait_applied(expected: int, timeout: float) -> tuple[dict[str, int], bool]:
            """Poll until `expected` messages are delivered and every stored event is processed (bounded)."""
            deadline = time.monotonic() + timeout
            while True:
                state = apply_state(psql_db, tenant_id)
                done = state["messages_delivered"] >= expected and state["events_processed"] == state["events_stored"]
                if done or time.monotonic() > deadline:
                    return state, done
                await asyncio.sleep(0.1)

        commit_probe = await asyncio.to_thread(probe_commits, url)
        log.info("baseline GET /")
        await get_root(port, args.warmup, args, pid)
        baseline = await get_root(port, args.duration, args, pid)

        log.info("building %d signed payloads", total)
        warm_bodies = signed_requests("wamid.warm.", args.warmup_webhooks)
        bodies = signed_requests("wamid.bench.", args.messages)
        rate_bodies = signed_requests("wamid.rate.", args.rate_messages)
        log.info("warm-up: %d webhooks", len(warm_bodies))
        warm = await post_all(port, warm_bodies, args, pid)
        # Let the processor catch up with the warm-up, so the measured phase starts from an empty backlog.
        await wait_applied(warm["ok"], min(args.apply_timeout, 20.0))

        log.info("measuring: %d webhooks, %d in flight", len(bodies), args.concurrency)
        started = time.perf_counter()
        result = await post_all(port, bodies, args, pid)
        acked_at = time.perf_counter()
        at_ack = apply_state(psql_db, tenant_id)
        log.info("waiting (at most %.0f s) for them to be applied", args.apply_timeout)
        state, done = await wait_applied(args.warmup_webhooks + args.messages, args.apply_timeout)
        applied_at = time.perf_counter()

        log.info("measuring: %d webhooks at %.0f/s (open loop)", len(rate_bodies), args.rate)
        at_rate = await post_all(port, rate_bodies, args, pid, rate=args.rate)
        rate_acked_at = time.perf_counter()
        final, rate_done = await wait_applied(total, args.apply_timeout)
        rate_applied_at = time.perf_counter()
    all_applied = (
        done
        and rate_done
        and final["events_stored"] == total
        and final["messages_delivered"] == total
        and final["messages_with_delivered_at"] == total
        and final["events_with_errors"] == 0
        and final["unmatched_statuses"] == 0
    )
    return {
        "baseline": baseline,
        "webhooks": result,
        "webhooks_at_rate": at_rate,
        "warmup_webhooks": {k: warm[k] for k in ("ok", "statuses", "rps", "p50_ms", "p99_ms")},
        "apply": {
            "all_applied": all_applied,
            "timed_out": not (done and rate_done),
            # None when the wait timed out: nothing was "all applied" then.
            "seconds_from_first_post_to_all_applied": round(applied_at - started, 2) if done else None,
            "seconds_after_last_ack_until_all_applied": round(applied_at - acked_at, 2) if done else None,
            "seconds_after_last_ack_until_all_applied_at_rate": (
                round(rate_applied_at - rate_acked_at, 2) if rate_done else None
            ),
            "seconds_waited_after_last_ack": round(applied_at - acked_at, 2),
            # Messages delivered (warm-up included) over the time since the closed-loop phase began.
            "applied_per_s_overall": round(state["messages_delivered"] / (applied_at - started), 1),
            "expected_events": total,
            "at_last_ack": at_ack,
            "after_closed_loop": state,
            "final": final,
        },
        "retries": retries,
        "commit_probe": commit_probe,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="greenline-bench-"))
    url = args.database_url
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}  # no stray settings
    env |= {
        "GREENLINE_DATABASE_URL": url,
        "GREENLINE_LOG_LEVEL": "WARNING",
        "GREENLINE_SECRET_KEY": "bench-" * 6,
        "GREENLINE_WHATSAPP_APP_SECRET": APP_SECRET,
    }
    machine = h.machine_info(url)
    wall = time.perf_counter()
    try:
        with h.database(url):
            h.greenline(env, workdir, "migrate")
            h.greenline(env, workdir, "create-admin", "--email", ROOT_EMAIL, "--password", PASSWORD)
            h.greenline(env, workdir, "create-tenant", "Bench Co", "--admin-email", EMAIL, "--admin-password", PASSWORD)
            with (
                h.server(env, workdir, args.startup_timeout, "--workers", str(args.workers)) as (base_url, server),
                asyncio.Runner(loop_factory=(loop := h.loop_factory())) as runner,
            ):
                results = runner.run(measure(args, url, base_url, server.pid))
            server_info = h.server_log_summary(workdir / "server.log", server.returncode)
            server_info["log_digest"] = log_digest(workdir / "server.log")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base, hooks, apply, at_rate = (
        results["baseline"],
        results["webhooks"],
        results["apply"],
        results["webhooks_at_rate"],
    )
    # At the target rate the server must keep up (the phase lasts no longer than it should) and answer fast.
    kept_up = at_rate["ok"] == args.rate_messages and at_rate["rps"] >= 0.98 * args.rate
    met = {
        "acks_per_s": hooks["rps"] >= TARGET_RPS,
        "p99_ms": at_rate["p99_ms"] < TARGET_P99_MS and kept_up,
        "every_event_applied": apply["all_applied"],
    }
    return {
        "benchmark": "inbound_webhooks",
        "results": {
            "baseline": base,
            "webhooks": hooks,
            "webhooks_at_rate": at_rate,
            "warmup_webhooks": results["warmup_webhooks"],
        },
        "apply": apply,
        "commit_probe": results["commit_probe"],
        "ratios_vs_baseline": {
            "webhooks_rps_over_baseline_rps": round(hooks["rps"] / base["rps"], 3),
            "webhooks_server_cpu_per_request_over_baseline": round(
                hooks["server_cpu_ms_per_request"] / base["server_cpu_ms_per_request"], 2
            ),
        },
        "targets": {
            "acks_per_s": {"target": TARGET_RPS, "measured_closed_loop": hooks["rps"], "met": met["acks_per_s"]},
            "p99_ms": {
                "target": TARGET_P99_MS,
                "measured_at_rate": at_rate["p99_ms"],
                "rate": args.rate,
                "achieved_rate": at_rate["rps"],
                "measured_closed_loop": hooks["p99_ms"],
                "met": met["p99_ms"],
            },
            "every_event_applied": {"met": met["every_event_applied"]},
            "all_met": all(met.values()),
        },
        "machine": machine,
        "parameters": {
            "messages": args.messages,
            "rate_messages": args.rate_messages,
            "rate_per_s": args.rate,
            "warmup_webhooks": args.warmup_webhooks,
            "concurrency": args.concurrency,
            "workers": args.workers,
            "baseline_duration_s": args.duration,
            "baseline_warmup_s": args.warmup,
            "max_seconds": args.max_seconds,
            "apply_timeout_s": args.apply_timeout,
            "payload": "one Cloud API `delivered` status per POST, X-Hub-Signature-256 signed",
            "server": f"greenline serve --workers {args.workers} (uvicorn + uvloop + httptools; embedded mode: each"
            " worker has its own group-commit writers; one inbound processor process applies the events)",
            "client": f"raw HTTP/1.1 keep-alive, {args.concurrency} connections, one process, "
            + ("uvloop" if loop else "asyncio")
            + f"; closed loop, then open loop at {args.rate:g}/s",
        },
        "server": {
            **server_info,
            "non_200_responses": {
                "baseline": base["requests"] - base["ok"],
                "webhooks": hooks["requests"] - hooks["ok"],
                "webhooks_at_rate": at_rate["requests"] - at_rate["ok"],
            },
            "read_after_write_retries": results["retries"],
        },
        "wall_s": round(time.perf_counter() - wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000, help="messages seeded and webhooks sent (measured)")
    parser.add_argument("--warmup-webhooks", type=int, default=1_000, help="unmeasured webhooks first")
    parser.add_argument("--rate-messages", type=int, default=20_000, help="webhooks sent in the open-loop phase")
    parser.add_argument("--rate", type=float, default=TARGET_RPS, help="webhooks per second in the open-loop phase")
    parser.add_argument("--concurrency", type=int, default=64, help="connections (closed loop: requests in flight)")
    parser.add_argument("--workers", type=int, default=2, help="`greenline serve --workers`")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds of the GET / baseline")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds of GET / first")
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard cap on baseline requests")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound on the webhook phase")
    parser.add_argument("--apply-timeout", type=float, default=120.0, help="bound on waiting for the processor")
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a dedicated PostgreSQL database (dropped after)")
    args = parser.parse_args()
    if (
        not args.database_url.startswith("postgresql")
        or min(args.messages, args.warmup_webhooks, args.rate_messages) < 1
    ):
        parser.error("needs a PostgreSQL --database-url and at least one webhook in each phase")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup in `finally` on SIGTERM too
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
