"""A real local HTTP receiver for webhook tests, a job-recording runner, and small API helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from greenline.core.jobs import attach_runner
from greenline.core.runtime import Runtime
from tests.factories import Actor


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


class Receiver:
    """An http.server on 127.0.0.1 that records every POST and answers with scripted statuses."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self.delay_seconds = 0.0
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                with receiver._arrived:
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                    receiver._arrived.notify_all()
                reply = b"ok" if status < 300 else b"receiver says no " + b"x" * 2000
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Block until `count` requests have arrived (fails the test after `timeout`)."""
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.requests) >= count, timeout), self.requests
            return list(self.requests)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class RecordingRunner:
    """Collects submitted jobs instead of running them, so a test decides when delivery happens."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        self.jobs.append((name, kwargs))

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


@contextmanager
def quiet_session(runtime: Runtime, tenant_id: int, runner: RecordingRunner | None = None) -> Iterator[Session]:
    """A committed unit of work for `tenant_id` whose jobs are recorded, not run."""
    session = runtime.db.session(tenant_id)
    attach_runner(session, runner or RecordingRunner())
    try:
        yield session
        session.commit()
    finally:
        session.close()


def drain(runtime: Runtime) -> None:
    """Wait for every background job submitted so far to finish."""
    runtime.runner.stop()


def create_endpoint(client: TestClient, actor: Actor, url: str, event_types: list[str], **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/webhooks/", json={"url": url, "event_types": event_types, **extra}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def logs(client: TestClient, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/webhooks/logs", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
