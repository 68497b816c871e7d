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
import shutil
import signal
import sys
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import _harness as h
import httpx

EMAIL, ROOT_EMAIL, PASSWORD = "bench-admin@bench.test", "bench-root@bench.test", "bench-password-123"
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)
log = logging.getLogger("bench.api_list")


async def measure(args: argparse.Namespace, base_url: str, pid: int) -> tuple[dict[str, Any], dict[str, int]]:
    async with AsyncExitStack() as stack:
        # One single-connection client per worker: one shared client's pool slows down sharply at 32 connections.
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=ONE_CONNECTION))
            for _ in range(args.concurrency)
        ]
        client = clients[0]
        login = await client.post("/api/v1/auth/login-json", json={"email": EMAIL, "password": PASSWORD})
        assert login.status_code == 200, login.text
        tenant_id, auth = login.json()["tenant_id"], {"Authorization": f"Bearer {login.json()['access_token']}"}
        # The server commits after sending the response, so a write may not be visible to the next request yet.
        retries = {"me_after_login": await h.retries_until(client, "/api/v1/auth/me", auth, lambda _: True)}
        keys_path = f"/api/v1/tenants/{tenant_id}/api-keys"
        for n in range(args.api_keys):
            created = await client.post(keys_path, json={"name": f"key {n}", "rate_limit": 100_000}, headers=auth)
            assert created.status_code == 201, created.text
        retries["list_after_creates"] = await h.retries_until(
            client, keys_path, auth, lambda body: len(body) == args.api_keys
        )
        endpoints = {"baseline": ("/", {}), "api_keys": (keys_path, auth), "users": ("/api/v1/users/", auth)}
        results: dict[str, Any] = {}
        for name, (path, headers) in endpoints.items():
            log.info("measuring %s %s", name, path)
            await h.load(clients, path, headers, args.warmup, args.max_requests, pid)
            results[name] = await h.load(clients, path, headers, args.duration, args.max_requests, pid)
            results[name]["path"] = path.replace(f"/tenants/{tenant_id}/", "/tenants/{tenant_id}/")
        return results, retries


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="greenline-bench-"))
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}  # no stray settings
    env |= {"GREENLINE_DATABASE_URL": url, "GREENLINE_LOG_LEVEL": "WARNING", "GREENLINE_SECRET_KEY": "bench-" * 6}
    machine = h.machine_info(url)
    try:
        with h.database(url):
            h.greenline(env, workdir, "migrate")
            h.greenline(env, workdir, "create-admin", "--email", ROOT_EMAIL, "--password", PASSWORD)
            h.greenline(env, workdir, "create-tenant", "Bench Co", "--admin-email", EMAIL, "--admin-password", PASSWORD)
            with (
                h.server(env, workdir, args.startup_timeout) as (base_url, server),
                asyncio.Runner(loop_factory=(loop := h.loop_factory())) as runner,
            ):
                results, retries = runner.run(measure(args, base_url, server.pid))
            server_info = h.server_log_summary(workdir / "server.log", server.returncode)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    base, lists = results["baseline"], [name for name in results if name != "baseline"]
    cpu_base = base["server_cpu_ms_per_request"]
    return {
        "benchmark": "api_list",
        "results": results,
        "ratios_vs_baseline": {
            **{f"{name}_rps_over_baseline_rps": round(results[name]["rps"] / base["rps"], 3) for name in lists},
            # Independent of the client's speed: server CPU per list request over server CPU per GET /.
            **{
                f"{name}_server_cpu_per_request_over_baseline": round(
                    results[name]["server_cpu_ms_per_request"] / cpu_base, 2
                )
                for name in lists
            },
        },
        "machine": machine,
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
            **server_info,
            "non_200_responses": {name: r["requests"] - r["ok"] for name, r in results.items()},
            "read_after_write_retries": retries,
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
