"""Campaign dispatch end to end on PostgreSQL: a 100,000-contact broadcast, queued → accepted by the simulator.

Creates a throwaway PostgreSQL database, runs `greenline migrate` and `create-tenant`, COPYs N contacts, connects
a simulator number with zero latency and no caps (`SimulatorParams.uncapped()` semantics, status webhooks off:
the figure is queued → accepted) and creates a broadcast with a personalised body, pacing off and no frequency
cap. Then it measures, in one run on the same rows:

1. audience resolution: starting the campaign (one INSERT … SELECT enrols every contact);
2. queuing: one engine tick, which turns the due enrolments into `queued` messages;
3. dispatch with 1, then 2 dispatcher processes: plain processes calling `campaigns.dispatcher.dispatch_sender`
   in a loop (what a `campaigns.dispatch` job runs), started and warmed before the clock starts;
4. the raw baseline: batches of 500 `UPDATE … SET status='sending' WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED
   LIMIT 500) RETURNING id`, then `UPDATE … SET status='sent'` on those rows, one process, same role and rows.

Between runs the messages go back to `queued` and the table is vacuumed. Prints one JSON object.
Always drops the database.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gl_bench"
EMAIL, PASSWORD = "bench-admin@bench.test", "bench-password-123"
SECRET = "bench-" * 6
BODY = "Hi {{ first_name }}, our spring sale starts today!"
UNCAPPED = {"accept_latency_s": 0.0, "enforce_limits": False, "enforce_window": False, "enforce_quality": False,
            "emit_events": False}  # fmt: skip
TARGETS = {"end_to_end_mps_min": 5_000, "audience_resolution_s_max": 2.0}
RAW_BATCH = 500
log = logging.getLogger("bench.campaign_dispatch")


def owner_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load_contacts(url: str, tenant_id: int, rows: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        columns = "tenant_id, phone, name, tags, custom_data, priority, status, created_at, updated_at"
        with cursor.copy(f"COPY contacts ({columns}) FROM STDIN") as copy:
            for start in range(0, rows, 20_000):
                copy.write(
                    "".join(
                        f"{tenant_id}\t+5511{i:09d}\tPerson{i} Test\t[]\t{{}}\tmedium\tactive\tnow\tnow\n"
                        for i in range(start, min(rows, start + 20_000))
                    )
                )
        cursor.execute("ANALYZE contacts")
    return time.perf_counter() - started


def tenant_id_of(url: str) -> int:
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id FROM tenants ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != 1:
        raise RuntimeError(f"expected one tenant, found {ids}")
    return int(ids[0])


def owner_sql(url: str, *statements: str) -> None:
    with psycopg.connect(owner_dsn(url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def requeue(url: str, campaign_id: int) -> None:
    """Put every message of the campaign back to `queued`, as the tick left them, and vacuum."""
    owner_sql(
        url,
        "UPDATE messages SET status = 'queued', provider_message_id = NULL, sent_at = NULL, claimed_at = NULL, "
        f"attempts = 0, body = NULL, tallied = 0 WHERE campaign_id = {int(campaign_id)}",
        "VACUUM ANALYZE messages",
    )


def count(url: str, campaign_id: int, status: str) -> int:
    with psycopg.connect(owner_dsn(url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messages WHERE campaign_id = %s AND status = %s", (campaign_id, status))
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# --- the parent ---------------------------------------------------------------------------------


def setup(runtime: Any, tenant_id: int) -> tuple[int, int]:
    """The simulator number and the broadcast, through the service layer."""
    from greenline.campaigns import service as campaigns
    from greenline.campaigns.schemas import CampaignCreate
    from greenline.channels import service as channels
    from greenline.channels.schemas import SenderCreate
    from greenline.core.principal import Principal

    with runtime.task_session(tenant_id) as session:
        sender = channels.create_sender(
            session, runtime,
            SenderCreate(name="Bench", display_number="+14155550100", channel="simulator", warmup_enabled=False,
                         throughput_mps=1000, simulator=UNCAPPED),
        )  # fmt: skip
        principal = Principal(user_id=None, tenant_id=tenant_id, role=None, permissions=frozenset())
        data = {"name": "Bench broadcast", "message": BODY, "audience": {"all": True}, "sender_number_ids": [sender.id],
                "settings": {"pacing": False, "frequency_cap": None, "quiet_hours": False}}  # fmt: skip
        campaign = campaigns.create_campaign(session, principal, CampaignCreate.model_validate(data))
    return sender.id, campaign.id


def dispatch_run(env: dict[str, str], workdir: Path, tenant_id: int, sender_id: int, processes: int) -> dict[str, Any]:
    """Start `processes` dispatchers, let them warm up, then time them until the queue is empty."""
    args = [sys.executable, __file__, "--child", f"--tenant={tenant_id}", f"--sender={sender_id}"]
    children = [
        subprocess.Popen(args, env=env, cwd=workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            while (line := child.stdout.readline()) and line.strip() != "ready":
                continue  # log lines before it
            if not line:
                raise RuntimeError("a dispatcher did not start")
        go = time.time()
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in children:
            out, _ = child.communicate(timeout=900)
            reports.append(json.loads(out.strip().splitlines()[-1]))  # the report is the last line
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    accepted = sum(r["accepted"] for r in reports)
    seconds = max(r["finished"] for r in reports) - go
    return {
        "processes": processes,
        "accepted": accepted,
        "seconds": round(seconds, 2),
        "mps": round(accepted / seconds),
        "cpu_s_per_process": [r["cpu_s"] for r in reports],
        "accepted_per_process": [r["accepted"] for r in reports],
    }


def raw_baseline(runtime: Any, tenant_id: int, sender_id: int, campaign_id: int) -> dict[str, Any]:
    """Claim-and-update of the same rows with nothing else: what the database alone allows."""
    claim = text(
        "UPDATE messages SET status = 'sending', claimed_at = now(), attempts = attempts + 1 WHERE id IN ("
        "SELECT id FROM messages WHERE tenant_id = :tenant AND sender_number_id = :sender AND status = 'queued' "
        "AND campaign_id = :campaign AND next_attempt_at <= now() ORDER BY next_attempt_at, id "
        f"LIMIT {RAW_BATCH} FOR UPDATE SKIP LOCKED) RETURNING id"
    )
    done = text(
        "UPDATE messages SET status = 'sent', sent_at = now(), provider_message_id = 'raw.' || id "
        "WHERE id = ANY(:ids) AND status = 'sending'"
    )
    params = {"tenant": tenant_id, "sender": sender_id, "campaign": campaign_id}
    updated, started = 0, time.perf_counter()
    while True:  # ends when a claim comes back empty: the rows are finite
        with runtime.task_session(tenant_id) as session:
            ids = list(session.scalars(claim, params))
        if not ids:
            break
        with runtime.task_session(tenant_id) as session:
            session.execute(done, {"ids": ids})
        updated += len(ids)
    seconds = time.perf_counter() - started
    return {"rows": updated, "seconds": round(seconds, 2), "mps": round(updated / seconds), "batch": RAW_BATCH}


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = args.database_url
    if not url.startswith("postgresql"):
        raise SystemExit("this benchmark measures PostgreSQL; give a postgresql+psycopg:// URL")
    workdir = Path(tempfile.mkdtemp(prefix="greenline-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}
    env |= {"GREENLINE_DATABASE_URL": url, "GREENLINE_LOG_LEVEL": "WARNING", "GREENLINE_SECRET_KEY": SECRET}
    os.environ.update({k: v for k, v in env.items() if k.startswith("GREENLINE_")})
    wall = time.perf_counter()
    try:
        with h.database(url):
            h.greenline(env, workdir, "migrate")
            h.greenline(env, workdir, "create-tenant", "Bench Co", "--admin-email", EMAIL, "--admin-password", PASSWORD)
            tenant_id = tenant_id_of(url)
            log.info("loading %d contacts", args.contacts)
            load_s = load_contacts(url, tenant_id, args.contacts)
            machine = h.machine_info(url)

            from greenline.campaigns import service as campaigns
            from greenline.campaigns import tasks
            from greenline.campaigns.replay import HandDriven
            from greenline.config import get_settings
            from greenline.wiring import make_runtime

            runtime = make_runtime(get_settings(), run_schedules=False)
            runtime.runner = HandDriven(runtime.runner)  # the bench runs the engine's steps itself
            sender_id, campaign_id = setup(runtime, tenant_id)

            started = time.perf_counter()
            with runtime.task_session(tenant_id) as session:
                audience = campaigns.start_campaign(session, campaign_id).audience_size
            resolution_s = time.perf_counter() - started
            started = time.perf_counter()
            tasks.tick_tenant(runtime, tenant_id)
            queuing_s = time.perf_counter() - started
            queued = count(url, campaign_id, "queued")
            log.info("audience %d in %.2f s, %d queued in %.2f s", audience, resolution_s, queued, queuing_s)
            owner_sql(url, "VACUUM ANALYZE messages", "VACUUM ANALYZE contact_campaign_progress")

            dispatch: dict[str, Any] = {}
            for processes in args.processes:
                result = dispatch_run(env, workdir, tenant_id, sender_id, processes)
                result["left_queued"] = count(url, campaign_id, "queued")
                dispatch[f"{processes}_process" + ("es" if processes > 1 else "")] = result
                log.info("dispatch with %d: %s", processes, result)
                requeue(url, campaign_id)
            baseline = raw_baseline(runtime, tenant_id, sender_id, campaign_id)
            log.info("raw baseline: %s", baseline)
            runtime.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    best = max(r["mps"] for r in dispatch.values())
    return {
        "benchmark": "campaign_dispatch",
        "audience_resolution": {"contacts": audience, "seconds": round(resolution_s, 3)},
        "queuing": {"messages": queued, "seconds": round(queuing_s, 3), "mps": round(queued / queuing_s)},
        "dispatch": dispatch,
        "raw_claim_and_update": baseline,
        "ratios_vs_raw": {name: round(r["mps"] / baseline["mps"], 3) for name, r in dispatch.items()},
        "targets": TARGETS,
        "targets_met": {
            "end_to_end_at_least_5000_mps": best >= TARGETS["end_to_end_mps_min"],
            "audience_resolution_under_2s": resolution_s < TARGETS["audience_resolution_s_max"],
        },
        "machine": {**machine, "note": "dispatchers, this process and PostgreSQL share this machine's CPUs"},
        "parameters": {
            "contacts": args.contacts,
            "body": BODY,
            "sender": {"channel": "simulator", "overrides": UNCAPPED, "warmup": False},
            "campaign_settings": {"pacing": False, "frequency_cap": None, "quiet_hours": False},
            "dispatchers": "plain processes looping campaigns.dispatcher.dispatch_sender (embedded-mode runtime)",
            "contacts_load_s": round(load_s, 2),
        },
        "wall_s": round(time.perf_counter() - wall, 1),
    }


# --- a dispatcher process ---------------------------------------------------------------------------


def child(tenant_id: int, sender_id: int) -> None:
    """Warm up, wait for "go" on stdin, send until nothing is due, print what it did as JSON."""
    from greenline.campaigns import dispatcher
    from greenline.channels.registry import register_simulated
    from greenline.config import get_settings
    from greenline.models import SenderNumber
    from greenline.wiring import make_runtime

    runtime = make_runtime(get_settings(), run_schedules=False)
    with runtime.task_session(tenant_id) as session:
        sender = session.get(SenderNumber, sender_id)
        assert sender is not None
        register_simulated(runtime, sender)
    print("ready", flush=True)
    sys.stdin.readline()
    cpu, accepted = time.process_time(), 0
    while True:  # ends when a run finds nothing due: the queue is finite
        sent = dispatcher.dispatch_sender(runtime, tenant_id, sender_id, run_seconds=3600)
        accepted += sent
        if sent == 0:
            break
    finished = time.time()
    print(json.dumps({"accepted": accepted, "finished": finished, "cpu_s": round(time.process_time() - cpu, 2)}))
    runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="dispatcher process counts to run")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL URL of a dedicated bench database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tenant", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sender", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.tenant, args.sender)
        return
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
