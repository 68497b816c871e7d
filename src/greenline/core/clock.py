"""The time the engine runs on: real UTC time, or a shared simulated clock.

Campaign delays, warm-up days, caps and quiet hours read `now(runtime)`, and the simulated WhatsApp
network uses the same clock, so a test or demo that makes a day pass in seconds moves both together.
Install a clock with `use_clock(runtime, clock)` before the simulator starts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from greenline.core.db import utcnow

SERVICE = "clock"


class Clock(Protocol):
    speed: float

    def time(self) -> float: ...

    def now(self) -> dt.datetime: ...


def use_clock(runtime: Any, clock: Clock) -> None:
    runtime.services[SERVICE] = clock


def clock_of(runtime: Any) -> Clock | None:
    clock: Clock | None = runtime.services.get(SERVICE)
    return clock


def now(runtime: Any) -> dt.datetime:
    clock = clock_of(runtime)
    return clock.now() if clock is not None else utcnow()


def speed(runtime: Any) -> float:
    """Simulated seconds per real second (1 without a simulated clock)."""
    clock = clock_of(runtime)
    return clock.speed if clock is not None else 1.0
