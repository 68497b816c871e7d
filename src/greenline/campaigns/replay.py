"""Run the campaign engine by hand on a manual clock: for the demo's history and for tests.

`Replay` ticks the engine, lets each number's dispatcher send, moves simulated time and applies every
webhook the simulator emitted, all in the calling thread. While it drives, the runtime's job runner
leaves the campaign jobs alone (`HandDriven`), so no background dispatcher races the replayed clock.
"""

from __future__ import annotations

import time
from typing import Any

from greenline.campaigns import dispatcher, tasks
from greenline.channels.simulator.clock import ManualClock
from greenline.core.clock import use_clock
from greenline.core.jobs import Runner
from greenline.core.runtime import Runtime


class HandDriven:
    """A job runner that drops the campaign jobs (the replay runs them) and runs every other job as usual."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        if not name.startswith("campaigns."):
            self.inner.submit(name, kwargs)

    def start(self) -> None:
        self.inner.start()

    def stop(self) -> None:
        self.inner.stop()


class Replay:
    """The campaign engine of one tenant, stepped by its caller on a manual clock."""

    def __init__(self, runtime: Runtime, tenant_id: int, start: float) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id
        self.clock = ManualClock(start=start)
        use_clock(runtime, self.clock)
        if not isinstance(runtime.runner, HandDriven):
            runtime.runner = HandDriven(runtime.runner)

    @property
    def network(self) -> Any:
        from greenline.channels.registry import simulator_network

        return simulator_network(self.runtime)

    def send_due(self, *, run_seconds: float = 0.05) -> int:
        """Queue due steps and let every number with due messages send; returns how many were accepted.

        A short run: on a manual clock, waiting for the next second of budget would only waste time.
        """
        sent = 0
        for sender_id in tasks.tick_tenant(self.runtime, self.tenant_id):
            sent += dispatcher.dispatch_sender(self.runtime, self.tenant_id, sender_id, run_seconds=run_seconds)
        return sent

    def advance(self, seconds: float) -> None:
        """Let simulated time pass and apply every webhook the simulator emitted meanwhile."""
        if seconds:
            self.network.advance(seconds)
        self.settle()

    def settle(self, timeout: float = 30.0) -> None:
        """Apply every stored webhook, including a batch the background processor is still applying."""
        from sqlalchemy import func, select

        from greenline.core.db import unscoped
        from greenline.inbound.service import process_pending
        from greenline.models import InboundEvent

        deadline = time.monotonic() + timeout
        while True:
            while process_pending(self.runtime):
                pass
            with self.runtime.task_session() as session, unscoped(session):
                waiting = session.scalar(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.processed_at.is_(None), InboundEvent.error.is_(None))
                )
            if not waiting or time.monotonic() > deadline:
                return
            time.sleep(0.02)

    def release(self) -> None:
        """Give the runtime its own runner back and drop the replay's simulated network and clock."""
        from greenline.core.clock import SERVICE

        if isinstance(self.runtime.runner, HandDriven):
            self.runtime.runner = self.runtime.runner.inner
        network = self.runtime.services.pop("simulator", None)
        if network is not None:
            network.stop()
        self.runtime.services.pop(SERVICE, None)
