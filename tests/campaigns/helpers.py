"""Drive the campaign engine by hand on a manual clock (campaigns/replay.py), and set up its data."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.campaigns.replay import Replay
from greenline.core.runtime import Runtime
from greenline.models import Contact, Message, Unsubscriber
from greenline.models.enums import ContactStatus
from tests.factories import Actor

# A quiet simulator for exact assertions: no latency, no window, nobody reads, replies or blocks.
QUIET = {
    "accept_latency_s": 0.0, "enforce_window": False, "read_share": 0.0, "instant_read_share": 0.0,
    "reply_share": 0.0, "not_on_whatsapp_share": 0.0, "marketing_cap_share": 0.0, "block_share": 0.0,
    "report_share": 0.0, "offline_share": 0.0,
}  # fmt: skip


class Engine(Replay):
    """The campaign engine for one tenant, stepped by a test on a manual clock that starts now."""

    def __init__(self, runtime: Runtime, tenant_id: int) -> None:
        super().__init__(runtime, tenant_id, start=float(int(time.time())))

    def step(self, seconds: float = 1.0, *, run_seconds: float = 0.3) -> int:
        """One round: queue due steps, let each number's dispatcher send, then let `seconds` pass."""
        sent = self.send_due(run_seconds=run_seconds)
        self.advance(seconds)
        return sent

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
