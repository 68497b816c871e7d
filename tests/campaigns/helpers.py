"""Drive the campaign engine by hand on a manual clock: tick, dispatch, let simulated time pass."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.campaigns import dispatcher, tasks
from greenline.channels.registry import simulator_network
from greenline.channels.simulator import ManualClock
from greenline.core.clock import use_clock
from greenline.core.jobs import Runner
from greenline.core.runtime import Runtime
from greenline.inbound.service import process_pending
from greenline.models import Contact, Message, Unsubscriber
from greenline.models.enums import ContactStatus
from tests.factories import Actor

# A quiet simulator for exact assertions: no latency, no window, nobody reads, replies or blocks.
QUIET = {
    "accept_latency_s": 0.0, "enforce_window": False, "read_share": 0.0, "instant_read_share": 0.0,
    "reply_share": 0.0, "not_on_whatsapp_share": 0.0, "marketing_cap_share": 0.0, "block_share": 0.0,
    "report_share": 0.0, "offline_share": 0.0,
}  # fmt: skip


class HandDriven:
    """A job runner that leaves the campaign jobs to the test and runs every other job as usual."""

    def __init__(self, inner: Runner) -> None:
        self.inner = inner

    def submit(self, name: str, kwargs: dict[str, Any]) -> None:
        if not name.startswith("campaigns."):
            self.inner.submit(name, kwargs)

    def start(self) -> None:
        self.inner.start()

    def stop(self) -> None:
        self.inner.stop()


class Engine:
    """The campaign engine for one tenant, stepped by a test on a manual clock."""

    def __init__(self, runtime: Runtime, tenant_id: int) -> None:
        self.runtime = runtime
        self.tenant_id = tenant_id
        self.clock = ManualClock(start=float(int(time.time())))
        use_clock(runtime, self.clock)
        if not isinstance(runtime.runner, HandDriven):
            runtime.runner = HandDriven(runtime.runner)

    @property
    def network(self) -> Any:
        return simulator_network(self.runtime)

    def step(self, seconds: float = 1.0, *, run_seconds: float = 0.3) -> int:
        """One round: queue due steps, let each number's dispatcher send, then let `seconds` pass."""
        sent = 0
        for sender_id in tasks.tick_tenant(self.runtime, self.tenant_id):
            sent += dispatcher.dispatch_sender(self.runtime, self.tenant_id, sender_id, run_seconds=run_seconds)
        self.advance(seconds)
        return sent

    def advance(self, seconds: float) -> None:
        if seconds:
            self.network.advance(seconds)
        self.settle()

    def settle(self) -> None:
        """Apply every simulated webhook emitted so far."""
        while process_pending(self.runtime):
            pass

    def run(self, until: Callable[[], bool], *, seconds: float = 1.0, rounds: int = 200) -> int:
        for index in range(rounds):
            self.step(seconds)
            if until():
                return index + 1
        raise AssertionError(f"the engine did not get there in {rounds} rounds")


def sender(client: TestClient, admin: Actor, display: str = "+14155550100", **fields: Any) -> dict[str, Any]:
    body = {"name": "Main", "display_number": display, "channel": "simulator", "warmup_enabled": False,
            "throughput_mps": 1000, "simulator": dict(QUIET), **fields}  # fmt: skip
    response = client.post("/api/v1/whatsapp/numbers", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def add_contacts(runtime: Runtime, tenant_id: int, count: int, *, start: int = 0, **fields: Any) -> list[int]:
    """Insert contacts directly (fast); phones are valid Brazilian mobiles."""
    with runtime.task_session(tenant_id) as session:
        rows = [
            Contact(tenant_id=tenant_id, phone=f"+55119{(start + i):08d}", name=f"Person{start + i} Test", **fields)
            for i in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [c.id for c in rows]


def opt_out(runtime: Runtime, tenant_id: int, contact_ids: Iterable[int]) -> None:
    with runtime.task_session(tenant_id) as session:
        for contact in session.scalars(select(Contact).where(Contact.id.in_(list(contact_ids)))):
            session.add(Unsubscriber(tenant_id=tenant_id, phone=contact.phone, source="test"))
            contact.status = ContactStatus.unsubscribed


def messages_by_contact(runtime: Runtime, tenant_id: int, campaign_id: int) -> dict[int, int]:
    with runtime.task_session(tenant_id) as session:
        rows = session.execute(
            select(Message.contact_id, func.count())
            .where(Message.campaign_id == campaign_id)
            .group_by(Message.contact_id)
        ).all()
    return {int(c): int(n) for c, n in rows}


def statuses(runtime: Runtime, tenant_id: int, campaign_id: int) -> dict[str, int]:
    with runtime.task_session(tenant_id) as session:
        rows = session.execute(
            select(Message.status, func.count()).where(Message.campaign_id == campaign_id).group_by(Message.status)
        ).all()
    return {str(s.value if hasattr(s, "value") else s): int(n) for s, n in rows}
