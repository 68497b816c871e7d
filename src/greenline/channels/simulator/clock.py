"""Simulated time: a day can pass in seconds, and tests move time by hand.

Every timing inside the simulator reads one injected clock, as float Unix seconds of simulated time.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol


class Clock(Protocol):
    speed: float  # simulated seconds per real second

    def time(self) -> float:
        """Simulated Unix time in seconds."""

    def now(self) -> dt.datetime:
        """Simulated time as an aware UTC datetime."""


def to_datetime(seconds: float) -> dt.datetime:
    """Unix seconds as an aware UTC datetime."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def to_seconds(value: dt.datetime | float | None) -> float | None:
    """A datetime (naive means UTC) or Unix seconds as Unix seconds."""
    if value is None or isinstance(value, float | int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class SimClock:
    """Real time accelerated by `speed`, starting at the real time of creation (or `start`)."""

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = time.time() if start is None else start
        self._origin = time.monotonic()

    def time(self) -> float:
        return self._start + (time.monotonic() - self._origin) * self.speed

    def now(self) -> dt.datetime:
        return to_datetime(self.time())


class ManualClock:
    """A clock that moves only when told to; for deterministic tests."""

    speed = 1.0

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def time(self) -> float:
        return self._now

    def now(self) -> dt.datetime:
        return to_datetime(self._now)

    def advance(self, seconds: float) -> float:
        """Move time forward; returns the new time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += seconds
            return self._now
