"""Durable intake of provider events with group commit.

A webhook is acknowledged only after its payload is committed to `inbound_events`. Committing one
row per request would cap intake at the database's commit rate, so concurrent requests are gathered
by one writer thread and committed together (one multi-row INSERT, one COMMIT), then all of them are
acknowledged. A crash after the acknowledgement loses nothing: the rows are there for the processor.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from greenline.core.db import Database, utcnow
from greenline.models import ChannelType, InboundEvent

log = structlog.get_logger(__name__)

MAX_BATCH = 500
GATHER_SECONDS = 0.002  # how long the writer waits for more events before committing a batch


@dataclass
class _Pending:
    channel: ChannelType
    payload: dict[str, Any]
    dedupe_key: str | None
    done: Future[None]


class EventStore:
    """Stores events durably; `on_stored` is called after each committed batch (to wake the processor)."""

    def __init__(self, db: Database, on_stored: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_stored = on_stored
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="greenline-inbound-writer", daemon=True)
                    self._thread.start()

    def submit(self, channel: ChannelType, payload: dict[str, Any], dedupe_key: str | None = None) -> Future[None]:
        self._ensure_started()
        done: Future[None] = Future()
        self._queue.put(_Pending(channel, payload, dedupe_key, done))
        return done

    async def ingest(self, channel: ChannelType, payload: dict[str, Any], dedupe_key: str | None = None) -> None:
        """Return once the event is committed (raises if it could not be stored)."""
        await asyncio.wrap_future(self.submit(channel, payload, dedupe_key))

    def ingest_sync(self, channel: ChannelType, payload: dict[str, Any], dedupe_key: str | None = None) -> None:
        self.submit(channel, payload, dedupe_key).result(timeout=30)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get(timeout=GATHER_SECONDS)
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Pending]) -> None:
        now = utcnow()
        rows = [
            {"channel": p.channel, "payload": p.payload, "dedupe_key": p.dedupe_key, "received_at": now, "attempts": 0}
            for p in batch
        ]
        try:
            with self.db.sessionmaker() as session:
                insert = pg_insert if self.db.is_postgres else sqlite_insert
                # A provider retrying the same delivery is stored once.
                session.execute(insert(InboundEvent).values(rows).on_conflict_do_nothing())
                session.commit()
        except Exception as exc:  # every waiting request must learn the outcome
            log.exception("inbound.store_failed", events=len(batch))
            for pending in batch:
                pending.done.set_exception(exc)
            return
        for pending in batch:
            pending.done.set_result(None)
        if self.on_stored is not None:
            self.on_stored()
