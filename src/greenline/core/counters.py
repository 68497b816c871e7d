"""Expiring counters for rate limits and buffered usage: in memory, or shared through Redis."""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


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
