"""Expiring counters for rate limits and buffered usage: in memory, or shared through Redis or PostgreSQL.

Memory is right only when one process does all the counting (SQLite: one process). Redis (scale
mode) and PostgreSQL (embedded mode on PostgreSQL, where `serve` runs web workers and an inbound
processor process) share them between processes, so a quota is one quota however many count it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import psycopg
import redis
from psycopg import sql


class Counters(Protocol):
    def hit(self, key: str, window_seconds: int, amount: int = 1) -> tuple[int, int]:
        """Add to a counter that expires `window_seconds` after its first hit; return (count, seconds left)."""

    def peek(self, key: str) -> tuple[int, int]:
        """Return (count, seconds left) without changing the counter."""

    def reset(self, key: str) -> None: ...

    def add_pending(self, bucket: str, amounts: dict[str, int]) -> None:
        """Add amounts to a shared hash of pending totals."""

    def drain_pending(self, bucket: str) -> dict[str, int]:
        """Atomically take and clear the pending totals of a bucket."""

    def read_pending(self, bucket: str) -> dict[str, int]: ...

    def ping(self) -> bool: ...


class MemoryCounters:
    """Counters for the embedded single-process mode."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        self._pending: dict[str, dict[str, int]] = {}

    def hit(self, key: str, window_seconds: int, amount: int = 1) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + window_seconds
            count += amount
            self._counts[key] = (count, expires)
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        return count, max(1, int(expires - now + 0.999))

    def peek(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counts.get(key, (0, 0.0))
        if expires <= now:
            return 0, 0
        return count, max(1, int(expires - now + 0.999))

    def reset(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def add_pending(self, bucket: str, amounts: dict[str, int]) -> None:
        with self._lock:
            pending = self._pending.setdefault(bucket, {})
            for field, amount in amounts.items():
                pending[field] = pending.get(field, 0) + amount

    def drain_pending(self, bucket: str) -> dict[str, int]:
        with self._lock:
            return self._pending.pop(bucket, {})

    def read_pending(self, bucket: str) -> dict[str, int]:
        with self._lock:
            return dict(self._pending.get(bucket, {}))

    def ping(self) -> bool:
        return True


class RedisCounters:
    """Counters shared by every API replica and worker (scale mode)."""

    _HIT = """
    local count = redis.call('INCRBY', KEYS[1], ARGV[1])
    local ttl = redis.call('TTL', KEYS[1])
    if ttl < 0 then
        redis.call('EXPIRE', KEYS[1], ARGV[2])
        ttl = tonumber(ARGV[2])
    end
    return {count, ttl}
    """

    def __init__(self, url: str, prefix: str = "greenline:") -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
        self.prefix = prefix
        self._hit = self.client.register_script(self._HIT)

    def hit(self, key: str, window_seconds: int, amount: int = 1) -> tuple[int, int]:
        count, ttl = self._hit(keys=[self.prefix + key], args=[amount, window_seconds])
        return int(count), max(1, int(ttl))

    def peek(self, key: str) -> tuple[int, int]:
        pipe = self.client.pipeline()
        pipe.get(self.prefix + key)
        pipe.ttl(self.prefix + key)
        value, ttl = pipe.execute()
        if value is None:
            return 0, 0
        return int(value), max(1, int(ttl))

    def reset(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def add_pending(self, bucket: str, amounts: dict[str, int]) -> None:
        if not amounts:
            return
        pipe = self.client.pipeline()
        for field, amount in amounts.items():
            pipe.hincrby(self.prefix + bucket, field, amount)
        pipe.execute()

    def drain_pending(self, bucket: str) -> dict[str, int]:
        key = self.prefix + bucket
        pipe = self.client.pipeline(transaction=True)
        pipe.hgetall(key)
        pipe.delete(key)
        values, _ = pipe.execute()
        return {field: int(value) for field, value in values.items()}

    def read_pending(self, bucket: str) -> dict[str, int]:
        values: dict[str, str] = self.client.hgetall(self.prefix + bucket)  # type: ignore[assignment]
        return {field: int(value) for field, value in values.items()}

    def ping(self) -> bool:
        return bool(self.client.ping())


class PostgresCounters:
    """Counters shared by every process on one PostgreSQL database (embedded mode without Redis).

    One autocommit statement per call on a small pool of its own connections (no pre-ping, no ORM):
    about one local round trip, 0.3 ms. Tables `shared_counters` and `pending_counts` are UNLOGGED.
    """

    _HIT = (
        "INSERT INTO shared_counters AS c (key, value, expires_at)"
        " VALUES (%(key)s, %(amount)s, now() + make_interval(secs => %(window)s))"
        " ON CONFLICT (key) DO UPDATE SET"
        " value = CASE WHEN c.expires_at > now() THEN c.value + excluded.value ELSE excluded.value END,"
        " expires_at = CASE WHEN c.expires_at > now() THEN c.expires_at ELSE excluded.expires_at END"
        " RETURNING value, ceil(extract(epoch FROM expires_at - now()))::int"
    )
    _PEEK = (
        "SELECT value, ceil(extract(epoch FROM expires_at - now()))::int FROM shared_counters"
        " WHERE key = %s AND expires_at > now()"
    )
    _ADD_PENDING = (
        "INSERT INTO pending_counts AS p (bucket, field, value)"
        " SELECT %s, f, v FROM unnest(%s::text[], %s::bigint[]) AS t(f, v)"
        " ON CONFLICT (bucket, field) DO UPDATE SET value = p.value + excluded.value"
    )
    PURGE_EVERY = 1000  # hits between deletions of expired counters
    MAX_CONNECTIONS = 4  # per process

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._idle: list[psycopg.Connection[Any]] = []
        self._slots = threading.BoundedSemaphore(self.MAX_CONNECTIONS)
        self._hits = 0

    @classmethod
    def for_url(cls, url: str, role: str | None = None) -> PostgresCounters:
        """`url` in libpq form (postgresql://...); `role`: SET ROLE as the application's engine does."""

        def connect() -> psycopg.Connection[Any]:
            connection = psycopg.connect(url, autocommit=True)
            if role:
                connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            return connection

        return cls(connect)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        # At most MAX_CONNECTIONS in use; more callers wait for one (a statement takes a fraction of a
        # millisecond) instead of opening and closing connections under load.
        with self._slots:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None or connection.closed:
                connection = self._connect()
            try:
                yield connection
            except BaseException:
                connection.close()  # its state is unknown: never reuse it
                raise
            with self._lock:
                self._idle.append(connection)

    def _run(self, query: str, params: Any) -> list[tuple[Any, ...]]:
        try:
            return self._execute(query, params)
        except psycopg.OperationalError:
            # Most likely a pooled connection the server closed meanwhile (restart, idle timeout), on
            # which the statement never ran: one retry on a new connection.
            return self._execute(query, params)

    def _execute(self, query: str, params: Any) -> list[tuple[Any, ...]]:
        with self._connection() as connection:
            cursor = connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def hit(self, key: str, window_seconds: int, amount: int = 1) -> tuple[int, int]:
        self._hits += 1  # not locked: an occasional missed or extra purge is harmless
        if self._hits % self.PURGE_EVERY == 0:
            self._run("DELETE FROM shared_counters WHERE expires_at < now() - interval '1 minute'", ())
        [(count, ttl)] = self._run(self._HIT, {"key": key, "amount": amount, "window": window_seconds})
        return int(count), max(1, int(ttl))

    def peek(self, key: str) -> tuple[int, int]:
        rows = self._run(self._PEEK, (key,))
        if not rows:
            return 0, 0
        count, ttl = rows[0]
        return int(count), max(1, int(ttl))

    def reset(self, key: str) -> None:
        self._run("DELETE FROM shared_counters WHERE key = %s", (key,))

    def add_pending(self, bucket: str, amounts: dict[str, int]) -> None:
        if amounts:
            self._run(self._ADD_PENDING, (bucket, list(amounts), list(amounts.values())))

    def drain_pending(self, bucket: str) -> dict[str, int]:
        # One DELETE ... RETURNING: a concurrent add lands either in this drain or in a new row.
        rows = self._run("DELETE FROM pending_counts WHERE bucket = %s RETURNING field, value", (bucket,))
        return {str(field): int(value) for field, value in rows}

    def read_pending(self, bucket: str) -> dict[str, int]:
        rows = self._run("SELECT field, value FROM pending_counts WHERE bucket = %s", (bucket,))
        return {str(field): int(value) for field, value in rows}

    def ping(self) -> bool:
        return self._run("SELECT 1", ()) == [(1,)]

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class PendingMeter:
    """Buffers increments in process memory; `push` moves them to the shared pending store.

    Keeps the request hot path free of I/O: one pipelined write per push, not per event.
    """

    def __init__(self, counters: Counters, bucket: str) -> None:
        self.counters = counters
        self.bucket = bucket
        self._lock = threading.Lock()
        self._local: dict[str, int] = {}

    def add(self, field: str, amount: int = 1) -> None:
        with self._lock:
            self._local[field] = self._local.get(field, 0) + amount

    def push(self) -> None:
        with self._lock:
            local, self._local = self._local, {}
        if not local:
            return
        try:
            self.counters.add_pending(self.bucket, local)
        except Exception:
            with self._lock:  # keep the counts for the next push
                for field, amount in local.items():
                    self._local[field] = self._local.get(field, 0) + amount
            raise
