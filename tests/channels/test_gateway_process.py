"""Greenline against the real gateway process (gateway/, Node) in its test-only fake WhatsApp mode.

The gateway runs as `node dist/index.js` with GATEWAY_FAKE_WHATSAPP=1: everything but the WhatsApp
connection is the production code, including the persisted event queue. Greenline serves its
webhook over real HTTP (uvicorn on a thread, the test's runtime), so the gateway's signed event
POSTs take the production path; the API is driven through the TestClient of the same app.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.app import create_app
from greenline.channels.baileys import SIGNATURE_HEADER, sign
from greenline.core.counters import MemoryCounters
from greenline.core.db import Database
from greenline.core.jobs import InProcessRunner, registry
from greenline.core.runtime import Runtime, build_runtime, set_runtime
from greenline.models import ChannelType, InboundEvent
from tests.conftest import IN_CI, make_settings, truncate_all
from tests.factories import Actor, Factory
from tests.inbound.helpers import eventually

GATEWAY_DIR = Path(__file__).resolve().parents[2] / "gateway"
SECRET = "gateway-test-secret-0123456789"
CUSTOMER = "+16505551234"
RECEIPT_MS = 300  # the fake's gap between a send and "delivered", and again until "read"
QR_MS = 2000  # how long the fake QR waits for its "scan"


def _run(*command: str) -> None:
    result = subprocess.run(command, cwd=GATEWAY_DIR, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


@pytest.fixture(scope="session")
def gateway_entry() -> Path:
    """gateway/dist/index.js, installed (npm ci) and built (tsc) once per session when out of date."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        message = "node and npm are needed to run the gateway process"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    installed = GATEWAY_DIR / "node_modules" / ".package-lock.json"
    if _mtime(installed) < _mtime(GATEWAY_DIR / "package-lock.json"):
        _run(npm, "ci", "--no-audit", "--no-fund")
    entry = GATEWAY_DIR / "dist" / "index.js"
    sources = [*(GATEWAY_DIR / "src").rglob("*.ts"), GATEWAY_DIR / "tsconfig.json", GATEWAY_DIR / "tsconfig.build.json"]
    if _mtime(entry) < max(_mtime(path) for path in [*sources, installed]):
        _run(npm, "run", "build")
    return entry


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class GreenlineServer:
    """The Greenline app on a real port, so the gateway can POST to it; stoppable to simulate an outage."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/webhooks/baileys"

    def start(self) -> None:
        # No lifespan: the TestClient owns the runtime's start and stop; no log config: keep the suite's.
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, lifespan="off", log_config=None,
                                log_level="warning", timeout_graceful_shutdown=2)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="greenline-http", daemon=True)
        self._thread.start()
        server = self._server
        eventually(lambda: server.started, timeout=10)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None


class GatewayProcess:
    """`node gateway/dist/index.js` in fake WhatsApp mode, with its state (sessions, event queue) in `data_dir`."""

    def __init__(self, entry: Path, data_dir: Path, port: int, webhook_url: str, log_path: Path) -> None:
        self.entry = entry
        self.data_dir = data_dir
        self.port = port
        self.webhook_url = webhook_url
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "NODE_ENV": "test",
            "GATEWAY_FAKE_WHATSAPP": "1",
            "FAKE_WHATSAPP_LOGIN": "qr",
            "FAKE_WHATSAPP_QR_MS": str(QR_MS),
            "FAKE_WHATSAPP_RECEIPT_MS": str(RECEIPT_MS),
            "GATEWAY_SHARED_SECRET": SECRET,
            "GREENLINE_WEBHOOK_URL": self.webhook_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(self.data_dir),
            "LOG_LEVEL": "info",
            "SEND_MIN_DELAY_MS": "0",
            "SEND_MAX_DELAY_MS": "0",
            "TYPING_MIN_MS": "0",
            "TYPING_MAX_MS": "20",
            "TYPING_MS_PER_CHAR": "1",
            "EVENT_RETRY_BASE_MS": "100",
            "EVENT_RETRY_MAX_MS": "400",
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(["node", str(self.entry)], env=env, stdout=log, stderr=subprocess.STDOUT)
        eventually(self._healthy, timeout=20)

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the gateway exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/health", timeout=5).json()
        return body

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def incoming(self, session_id: str, sender: str, text: str, message_id: str) -> None:
        """A WhatsApp user writes to the session's number (the fake mode's control route)."""
        body = json.dumps({"from": sender, "text": text, "pushName": "Pablo M.", "messageId": message_id}).encode()
        headers = {"Content-Type": "application/json", "X-Session-Id": session_id, SIGNATURE_HEADER: sign(SECRET, body)}
        response = httpx.post(f"{self.url}/fake/incoming", content=body, headers=headers, timeout=10)
        assert response.status_code == 202, response.text
        assert response.json() == {"messageId": message_id}

    def pending_event_ids(self) -> set[str]:
        """Event ids in the persisted queue not yet acknowledged (DATA_DIR/events.jsonl minus events.acked)."""
        queued = [json.loads(line)["id"] for line in (self.data_dir / "events.jsonl").read_text().splitlines() if line]
        acked_file = self.data_dir / "events.acked"
        acked = set(acked_file.read_text().split()) if acked_file.exists() else set()
        return set(queued) - acked


@dataclass
class Stack:
    client: TestClient
    factory: Factory
    runtime: Runtime
    greenline: GreenlineServer
    gateway: GatewayProcess


@pytest.fixture
def stack(gateway_entry: Path, database: Database, db_url: str, tmp_path: Path) -> Iterator[Stack]:
    truncate_all(db_url)
    gateway_port, greenline_port = _free_port(), _free_port()
    settings = make_settings(db_url, gateway_url=f"http://127.0.0.1:{gateway_port}", gateway_secret=SECRET)
    runtime = build_runtime(settings, InProcessRunner(registry, run_schedules=False), MemoryCounters(), database)
    set_runtime(runtime)
    app = create_app(settings, runtime)
    greenline = GreenlineServer(app, greenline_port)
    gateway = GatewayProcess(gateway_entry, tmp_path / "gateway-data", gateway_port, greenline.webhook_url,
                             tmp_path / "gateway.log")  # fmt: skip
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            greenline.start()
            gateway.start()
            try:
                yield Stack(client, Factory(client, runtime), runtime, greenline, gateway)
            finally:
                gateway.stop()
                greenline.stop()
    finally:
        set_runtime(None)


def _get(stack: Stack, admin: Actor, path: str) -> Any:
    response = stack.client.get(f"/api/v1{path}", headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _linked_number(stack: Stack, admin: Actor) -> dict[str, Any]:
    """Connect a linked-device number: the gateway shows a QR, the fake "scans" it, the number connects."""
    created = stack.client.post(
        "/api/v1/whatsapp/numbers",
        json={"name": "Shop phone", "display_number": "+1 415 555 2671", "channel": "baileys"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    number: dict[str, Any] = created.json()
    qr = _get(stack, admin, f"/whatsapp/qr?number_id={number['id']}")
    assert qr["status"] == "qr", stack.gateway.log()
    assert qr["qr"].startswith("data:image/png;base64,")
    # Instead of scanning, the phone may type a pairing code the gateway asks WhatsApp for.
    pairing = stack.client.post(
        "/api/v1/whatsapp/pairing-code", json={"phone": "+1 415 555 2671", "number_id": number["id"]},
        headers=admin.headers,
    )  # fmt: skip
    assert pairing.status_code == 200, pairing.text
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", pairing.json()["code"])
    eventually(lambda: _get(stack, admin, f"/whatsapp/numbers/{number['id']}")["status"] == "connected")
    return number


def _messages(stack: Stack, admin: Actor) -> list[dict[str, Any]]:
    conversations = _get(stack, admin, "/conversations/")["items"]
    if not conversations:
        return []
    items: list[dict[str, Any]] = _get(stack, admin, f"/conversations/{conversations[0]['id']}/messages")["items"]
    return items


def _inbound_events(stack: Stack, admin: Actor) -> list[InboundEvent]:
    with stack.runtime.db.session(admin.tenant_id) as session:
        return list(session.scalars(select(InboundEvent).where(InboundEvent.channel == ChannelType.baileys)))


def _receipts(stack: Stack, admin: Actor, provider_id: str) -> list[str]:
    return sorted(
        e.payload["data"]["status"]
        for e in _inbound_events(stack, admin)
        if e.payload["type"] == "receipt" and e.payload["data"]["messageId"] == provider_id
    )


def test_a_sent_message_goes_sent_delivered_read_from_the_gateways_receipts(stack: Stack) -> None:
    admin = stack.factory.tenant()
    _linked_number(stack, admin)
    sent = stack.client.post(
        "/api/v1/whatsapp/send", json={"to": CUSTOMER, "text": "Your order has shipped"}, headers=admin.headers
    )
    assert sent.status_code == 202, sent.text

    def outbound() -> dict[str, Any] | None:
        return next((m for m in _messages(stack, admin) if m["id"] == sent.json()["message_id"]), None)

    seen: list[str] = []

    def read() -> dict[str, Any] | None:
        message = outbound()
        if message is not None and message["ticks"]["status"] not in seen:
            seen.append(message["ticks"]["status"])
        return message if message is not None and message["ticks"]["status"] == "read" else None

    message = eventually(read)
    assert message["provider_message_id"].startswith("3EB0")
    assert message["body"] == "Your order has shipped"
    ticks = message["ticks"]
    assert ticks["sent_at"] is not None
    assert ticks["delivered_at"] is not None
    assert ticks["read_at"] is not None
    assert ticks["delivered_at"] <= ticks["read_at"]
    # Statuses only move forward, whichever of them the polling caught.
    order = ["queued", "sending", "sent", "delivered", "read"]
    assert seen == sorted(seen, key=order.index)
    # One receipt event of each kind came from the gateway, through the signed webhook.
    assert _receipts(stack, admin, message["provider_message_id"]) == ["delivered", "read", "sent"]


def test_an_incoming_message_lands_in_a_conversation(stack: Stack) -> None:
    admin = stack.factory.tenant()
    number = _linked_number(stack, admin)
    stack.gateway.incoming(number["provider_id"], CUSTOMER, "Do you ship to Texas?", "FAKEIN0001")
    messages = eventually(lambda: _messages(stack, admin))
    assert [(m["direction"], m["body"], m["provider_message_id"]) for m in messages] == [
        ("inbound", "Do you ship to Texas?", "FAKEIN0001")
    ]
    contact = _get(stack, admin, f"/contacts/{messages[0]['contact_id']}")
    assert (contact["phone"], contact["name"]) == (CUSTOMER, "Pablo M.")


def test_events_queued_while_greenline_is_down_survive_a_gateway_kill_and_arrive_once(stack: Stack) -> None:
    admin = stack.factory.tenant()
    number = _linked_number(stack, admin)
    session_id = number["provider_id"]
    eventually(lambda: stack.gateway.health()["pendingEvents"] == 0)

    stack.greenline.stop()
    # The API still works (it is the TestClient); only the gateway's webhook target is down.
    sent = stack.client.post("/api/v1/whatsapp/send", json={"to": CUSTOMER, "text": "Offer!"}, headers=admin.headers)
    assert sent.status_code == 202, sent.text
    texts = {f"FAKEQ{i}": f"Question {i}" for i in range(3)}
    for message_id, text in texts.items():
        stack.gateway.incoming(session_id, CUSTOMER, text, message_id)
    # sent + delivered + read receipts of the send, and the three messages.
    eventually(lambda: stack.gateway.health()["pendingEvents"] == 6)
    queued = stack.gateway.pending_event_ids()
    assert len(queued) == 6

    stack.gateway.kill()
    stack.gateway.start()  # same DATA_DIR: resumes the linked session and the queue
    assert stack.gateway.health()["pendingEvents"] >= 6
    # Nothing reached Greenline meanwhile: the send is `sent` (from the API's own call), nothing came in.
    eventually(
        lambda: [(m["direction"], m["ticks"]["status"]) for m in _messages(stack, admin)] == [("outbound", "sent")]
    )

    stack.greenline.start()
    eventually(lambda: stack.gateway.health()["pendingEvents"] == 0)
    stored = {e.dedupe_key for e in _inbound_events(stack, admin)}
    assert queued <= stored

    def settled() -> list[dict[str, Any]] | None:
        messages = _messages(stack, admin)
        inbound = [m for m in messages if m["direction"] == "inbound"]
        outbound = [m for m in messages if m["direction"] == "outbound"]
        return messages if len(inbound) == 3 and outbound[0]["ticks"]["status"] == "read" else None

    messages = eventually(settled)
    inbound = sorted((m["provider_message_id"], m["body"]) for m in messages if m["direction"] == "inbound")
    assert inbound == sorted(texts.items())
    outbound = [m for m in messages if m["direction"] == "outbound"]
    assert len(outbound) == 1
    assert _receipts(stack, admin, outbound[0]["provider_message_id"]) == ["delivered", "read", "sent"]
    events = _inbound_events(stack, admin)
    assert sorted(e.payload["data"]["messageId"] for e in events if e.payload["type"] == "message") == sorted(texts)
