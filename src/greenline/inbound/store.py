"""Durable intake of provider events with group commit.

A webhook is acknowledged only after its payload is committed to `inbound_events`. Committing one
row per request would cap intake at the database's commit rate, so events waiting at the same time
are committed together (one INSERT in autocommit), then all of them are acknowledged. A crash after
the acknowledgement loses nothing: the rows are there for the processor.

Batching costs no waiting: a writer takes every event waiting, and while it commits, new events
queue up for its next batch. On PostgreSQL, requests on an event loop are written by that loop's
own writers (two connections, so one batch commits while the other is in flight): no thread is
woken between a request and its answer, which is most of a webhook's cost at thousands per
second. On SQLite (no async driver) and for callers on other threads (the simulator), one writer
thread does the same, told of each commit by one callback per batch.

Payloads are stored as the JSON text the provider sent: no parse-and-serialise round trip on the
hot path (PostgreSQL checks and stores it as jsonb; the processor parses it later).
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from psycopg import sql
from sqlalchemy import Connection, Table, Text, bindparam
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from greenline.core.db import Database, utcnow
from greenline.models import ChannelType, InboundEvent

log = structlog.get_logger(__name__)

MAX_BATCH = 500
POSTGRES_WRITERS = 2
# One statement per batch; a provider retrying the same delivery is stored once (unique channel + dedupe_key).
_PG_INSERT = (
    "INSERT INTO inbound_events (channel, dedupe_key, payload, received_at, attempts)"
    " SELECT c, k, p::jsonb, %s, 0 FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(c, k, p)"
    " ON CONFLICT DO NOTHING"
)

Row = dict[str, Any]


@dataclass
class _Work:
    """Rows committed together; `done` gets each row's error (None: stored) on the writer thread."""

    rows: list[Row]
    done: Callable[[list[BaseException | None]], None]


@dataclass
class _LoopBatch:
    """Events of one event loop waiting to be written, and the loop's own writers (PostgreSQL connections)."""

    loop: asyncio.AbstractEventLoop
    waiting: list[tuple[Row, asyncio.Future[None]]] = field(default_factory=list)
    in_writers: int = 0
    idle: list[psycopg.AsyncConnection[Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def finish(self) -> None:
        """Close the idle connections without the loop (it may be closed already)."""
        for connection in self.idle:
            connection.pgconn.finish()
        self.idle.clear()


def _params(rows: list[Row]) -> tuple[Any, ...]:
    return (
        utcnow(),
        [row["channel"].value for row in rows],
        [row["dedupe_key"] for row in rows],
        [row["raw"] for row in rows],
    )


def _row(channel: ChannelType, payload: str, dedupe_key: str | None) -> Row:
    return {"channel": channel, "raw": payload, "dedupe_key": dedupe_key, "attempts": 0}


class EventStore:
    """Stores events durably; `on_stored` is called after each committed batch (to wake the processor)."""

    def __init__(self, db: Database, on_stored: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_stored = on_stored
        self._queue: queue.Queue[_Work | None] = queue.Queue()
        # PostgreSQL: two writers per loop, so a batch can commit while the previous one is still in flight.
        self.writers = POSTGRES_WRITERS if db.is_postgres else 1
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._loops: dict[asyncio.AbstractEventLoop, _LoopBatch] = {}
        self._connections: list[Connection] = []
        self._local = threading.local()
        table = InboundEvent.__table__
        assert isinstance(table, Table)
        # SQLite: the JSON text as it came (JSON is TEXT there; the column's type would encode the string again).
        self._insert = sqlite_insert(table).values(payload=bindparam("raw", type_=Text())).on_conflict_do_nothing()

    def _ensure_started(self) -> None:
        if not self._threads:
            with self._lock:
                if not self._threads:
                    thread = threading.Thread(target=self._run, name="greenline-inbound-writer", daemon=True)
                    thread.start()
                    self._threads = [thread]

    async def ingest(self, channel: ChannelType, payload: str, dedupe_key: str | None = None) -> None:
        """Return once the event (its JSON text) is committed; raises if it could not be stored."""
        loop = asyncio.get_running_loop()
        batch = self._loops.get(loop)
        if batch is None:
            # Forget closed loops (tests start several); a server has one loop per process.
            for other in [other for other in self._loops if other.is_closed()]:
                self._loops.pop(other).finish()
            batch = self._loops[loop] = _LoopBatch(loop)
        future: asyncio.Future[None] = loop.create_future()
        batch.waiting.append((_row(channel, payload, dedupe_key), future))
        if batch.in_writers < self.writers:
            batch.in_writers += 1
            if self.db.is_postgres:
                task = loop.create_task(self._write_async(batch))
                batch.tasks.add(task)
                task.add_done_callback(batch.tasks.discard)
            else:
                self._hand_over(batch)
        await future

    async def _write_async(self, batch: _LoopBatch) -> None:
        """PostgreSQL: commit the loop's waiting events, batch after batch, until none wait.

        Runs on the loop with the loop's own connection: no thread is woken on the way, so the answer
        waits only for the database.
        """
        try:
            while batch.waiting:
                taken, batch.waiting = batch.waiting[:MAX_BATCH], batch.waiting[MAX_BATCH:]
                rows = [row for row, _ in taken]
                try:
                    await self._insert_async(batch, rows)
                    errors: list[BaseException | None] = [None] * len(rows)
                except Exception as exc:
                    log.exception("inbound.store_failed", events=len(rows))
                    # One bad payload must not fail the requests it was batched with: store each row alone.
                    errors = [await self._insert_alone_async(batch, row) for row in rows] if len(rows) > 1 else [exc]
                for (_, future), error in zip(taken, errors, strict=True):
                    if future.done():  # the request was cancelled: its row is stored all the same
                        continue
                    if error is None:
                        future.set_result(None)
                    else:
                        future.set_exception(error)
                if self.on_stored is not None and not all(errors):
                    # It may block (scale mode sends a Celery message): never on the loop.
                    batch.loop.run_in_executor(None, self.on_stored)
        finally:
            batch.in_writers -= 1

    async def _insert_alone_async(self, batch: _LoopBatch, row: Row) -> BaseException | None:
        try:
            await self._insert_async(batch, [row])
        except Exception as exc:  # noqa: BLE001 - reported to the request that sent this row
            return exc
        return None

    async def _insert_async(self, batch: _LoopBatch, rows: list[Row]) -> None:
        """One INSERT in autocommit: one round trip, durable when it returns; a failed connection is dropped."""
        connection = batch.idle.pop() if batch.idle else await self._connect()
        try:
            await connection.execute(_PG_INSERT, _params(rows))
        except Exception:
            await connection.close()
            raise
        batch.idle.append(connection)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await psycopg.AsyncConnection.connect(url, autocommit=True)
        if role := self.db.settings.db_app_role:
            # As the application's engine does: a role that does not own the tables.
            await connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        return connection

    def _hand_over(self, batch: _LoopBatch) -> None:
        """SQLite: give the writer thread the loop's waiting events (runs on the loop)."""
        taken, batch.waiting = batch.waiting[:MAX_BATCH], batch.waiting[MAX_BATCH:]

        def committed(errors: list[BaseException | None]) -> None:  # on the writer thread
            if not batch.loop.is_closed():  # else the requests are gone: nobody to answer
                batch.loop.call_soon_threadsafe(self._settle, batch, taken, errors)

        self._submit(_Work([row for row, _ in taken], committed))

    def _settle(
        self, batch: _LoopBatch, taken: list[tuple[Row, asyncio.Future[None]]], errors: list[BaseException | None]
    ) -> None:
        for (_, future), error in zip(taken, errors, strict=True):
            if future.done():  # the request was cancelled (client gone): its row is stored all the same
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
        if batch.waiting:
            self._hand_over(batch)  # the writer's slot goes to the next batch
        else:
            batch.in_writers -= 1

    def submit(self, channel: ChannelType, payload: str, dedupe_key: str | None = None) -> Future[None]:
        """Queue one event from any thread; the future completes after its commit."""
        done: Future[None] = Future()

        def committed(errors: list[BaseException | None]) -> None:
            if (error := errors[0]) is None:
                done.set_result(None)
            else:
                done.set_exception(error)

        self._submit(_Work([_row(channel, payload, dedupe_key)], committed))
        return done

    def ingest_sync(self, channel: ChannelType, payload: dict[str, Any], dedupe_key: str | None = None) -> None:
        """Store a payload built in this process (the simulator's events) and wait for the commit."""
        self.submit(channel, json.dumps(payload), dedupe_key).result(timeout=30)

    def _submit(self, work: _Work) -> None:
        self._ensure_started()
        self._queue.put(work)

    def close(self) -> None:
        threads, self._threads = self._threads, []
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout=10)
        for connection in self._connections:
            connection.close()
        self._connections = []
        for batch in self._loops.values():
            batch.finish()
        self._loops = {}

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, rows, stop = [first], len(first.rows), False
            while rows < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
                rows += len(item.rows)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Work]) -> None:
        rows = [row for work in batch for row in work.rows]
        try:
            self._commit(rows)
            errors: list[BaseException | None] = [None] * len(rows)
        except Exception as exc:
            log.exception("inbound.store_failed", events=len(rows))
            # One bad payload must not fail the requests it was batched with: store each row alone.
            errors = [self._commit_alone(row) for row in rows] if len(rows) > 1 else [exc]
        at = 0
        for work in batch:
            try:
                work.done(errors[at : at + len(work.rows)])
            except Exception:  # noqa: BLE001 - the writer must outlive any one waiter (e.g. a loop closing now)
                log.warning("inbound.store_waiter_gone")
            at += len(work.rows)
        if self.on_stored is not None and not all(errors):
            self.on_stored()

    def _commit_alone(self, row: Row) -> BaseException | None:
        try:
            self._commit([row])
        except Exception as exc:  # noqa: BLE001 - reported to the request that sent this row
            return exc
        return None

    def _commit(self, rows: list[Row]) -> None:
        if not self.db.is_postgres:
            now = utcnow()
            with self.db.engine.begin() as conn:
                conn.execute(self._insert, [{**row, "received_at": now} for row in rows])
            return
        # One statement in autocommit: one round trip, durable when it returns. Each writer keeps its
        # connection (no pool checkout and ping per batch); a failed one is replaced on the next batch.
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._local.connection = connection
            with self._lock:
                self._connections = [c for c in self._connections if not c.closed] + [connection]
        try:
            connection.exec_driver_sql(_PG_INSERT, _params(rows))
        except Exception:
            connection.close()
            raise
