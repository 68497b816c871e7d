"""`greenline serve` on PostgreSQL applies stored events in a processor process of its own.

A real server (`greenline serve --workers 2`) with signed Cloud API webhooks: the web workers only
store events, the processor process applies them and runs the jobs their hooks enqueue (a tenant
webhook here). Killed with SIGKILL, it is replaced and the events stored meanwhile are applied; when
the server stops, it stops too.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from greenline.channels.signatures import sign_meta
from greenline.core.runtime import Runtime
from greenline.inbound.standalone import uses_processor_process
from greenline.models import Message
from tests.conftest import BACKEND, TEST_SECRET, make_settings
from tests.factories import Factory
from tests.inbound.helpers import APP_SECRET, cloud_number, eventually, outbound_message, status
from tests.webhooks.helpers import Receiver, create_endpoint

CONTACT = "+16505551234"
STARTED = "inbound.processor_process_started"


def test_only_embedded_mode_on_postgresql_uses_a_processor_process(tmp_path: Path) -> None:
    assert not uses_processor_process(make_settings(f"sqlite:///{tmp_path / 'x.db'}"))  # SQLite has one writer
    postgres = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert uses_processor_process(make_settings(postgres))
    assert not uses_processor_process(make_settings(postgres, redis_url="redis://127.0.0.1:6379/15"))  # Celery


class Server:
    """`greenline serve --workers 2` in its own process group, logging JSON to a file."""

    def __init__(self, root: Path, db_url: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.log = root / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}
        env.update(
            GREENLINE_ENVIRONMENT="test", GREENLINE_DATABASE_URL=db_url, GREENLINE_SECRET_KEY=TEST_SECRET,
            GREENLINE_WHATSAPP_APP_SECRET=APP_SECRET, GREENLINE_LOG_LEVEL="INFO", GREENLINE_LOG_JSON="true",
            GREENLINE_DB_POOL_SIZE="4", GREENLINE_ARGON2_TIME_COST="1", GREENLINE_ARGON2_MEMORY_KIB="1024",
        )  # fmt: skip
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "greenline.cli", "serve", "--port", str(self.port), "--workers", "2"],
                cwd=root, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(self.url + "/api/v1/health/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not up\n{self.log.read_text()}")

    def events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == name:
                found.append(record)
        return found

    def processor_pids(self) -> list[int]:
        return [int(record["pid"]) for record in self.events(STARTED)]

    def post_signed(self, payload: dict[str, Any]) -> httpx.Response:
        raw = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign_meta(APP_SECRET, raw)}
        return httpx.post(self.url + "/api/v1/webhooks/whatsapp", content=raw, headers=headers, timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[Server]:
    running = Server(tmp_path, db_url)
    try:
        running.wait_up()
        yield running
    finally:
        running.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) counts as gone.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _status(runtime: Runtime, tenant_id: int, message_id: int) -> str:
    with runtime.db.session(tenant_id) as session:
        message = session.get(Message, message_id)
        assert message is not None
        return str(message.status)


@pytest.mark.slow
@pytest.mark.skipif(BACKEND != "postgres", reason="several processes share the database on PostgreSQL only")
def test_a_processor_process_applies_events_survives_kill_and_stops_with_the_server(
    wa: tuple[TestClient, Factory], wa_runtime: Runtime, server: Server
) -> None:
    client, factory = wa
    admin = factory.tenant()
    tenant = admin.tenant_id or 0
    cloud_number(client, admin)
    first = outbound_message(wa_runtime, tenant, CONTACT, "wamid.proc.1")
    second = outbound_message(wa_runtime, tenant, CONTACT, "wamid.proc.2")
    [pid] = eventually(server.processor_pids, timeout=30)
    assert pid != server.process.pid

    with Receiver() as receiver:
        create_endpoint(client, admin, receiver.url("/status"), ["message.status"])
        assert server.post_signed(status("wamid.proc.1", "delivered", "16505551234")).status_code == 200
        eventually(lambda: _status(wa_runtime, tenant, first) == "delivered", timeout=15)
        # The hook's job (a signed tenant webhook) ran in the processor process.
        [request] = receiver.wait_for(1)
        assert json.loads(request.body)["data"]["provider_message_id"] == "wamid.proc.1"

    os.kill(pid, signal.SIGKILL)
    eventually(lambda: not _alive(pid), timeout=10)
    # Stored (and acknowledged) while no processor runs; applied by its replacement.
    assert server.post_signed(status("wamid.proc.2", "read", "16505551234")).status_code == 200
    eventually(lambda: len(server.processor_pids()) == 2, timeout=30)
    replacement = server.processor_pids()[1]
    assert replacement != pid
    eventually(lambda: _status(wa_runtime, tenant, second) == "read", timeout=15)
    assert server.events("inbound.processor_process_died")

    server.stop()
    assert server.process.returncode is not None
    eventually(lambda: not _alive(replacement), timeout=15)
