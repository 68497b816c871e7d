"""Warm-up and caps over a simulated fortnight: Greenline's pacing keeps a new number healthy, a blast does not."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.channels.warmup import daily_allowance
from greenline.core.runtime import Runtime
from greenline.models import Campaign, Message, SenderNumber
from tests.campaigns.helpers import Engine, add_contacts, sender
from tests.factories import Actor, Factory

API = "/api/v1/campaigns"
HOUR = 3_600
AUDIENCE = 6_000  # more than the whole 14-day ramp allows, so every day is used to the full
# A realistic simulator (blocks, reports, reads, replies, offline users), minus latency and the 24 h window.
REALISTIC = {"accept_latency_s": 0.0, "enforce_window": False}


def launch(
    client: TestClient, factory: Factory, runtime: Runtime, **settings: object
) -> tuple[Engine, dict[str, Any], dict[str, Any], Actor]:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    engine = Engine(runtime, admin.tenant_id)
    number = sender(client, admin, warmup_enabled=True, simulator=REALISTIC)
    add_contacts(runtime, admin.tenant_id, AUDIENCE)
    body = {"name": "Fortnight", "message": "{Hi|Hello} {{ first_name }}, new arrivals are in!",
            "audience": {"all": True}, "sender_number_ids": [number["id"]], "settings": settings}  # fmt: skip
    campaign = client.post(f"{API}/", json=body, headers=admin.headers).json()
    assert client.post(f"{API}/{campaign['id']}/start", headers=admin.headers).status_code == 200
    return engine, number, campaign, admin


def sends_per_day(runtime: Runtime, engine: Engine, number_id: int) -> Counter[int]:
    with runtime.task_session(engine.tenant_id) as session:
        start = session.get(SenderNumber, number_id).warmup_started_at  # type: ignore[union-attr]
        claimed = session.scalars(select(Message.claimed_at).where(Message.claimed_at.is_not(None))).all()
    assert start is not None
    return Counter(int((at - start) / dt.timedelta(days=1)) + 1 for at in claimed)


def test_a_new_number_paced_by_the_defaults_follows_the_ramp_and_stays_healthy(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    engine, number, campaign, admin = launch(client, factory, runtime)
    for _ in range(14 * 12):  # two-hour rounds for fourteen days
        engine.step(2 * HOUR)
    per_day = sends_per_day(runtime, engine, number["id"])
    for day in range(1, 15):
        assert per_day[day] <= daily_allowance(day), (day, per_day[day])
    # The ramp is used, not just respected: every day sends its allowance (the audience is larger).
    assert per_day[1] == daily_allowance(1)
    assert per_day[14] == daily_allowance(14)
    assert engine.network.status(_provider(runtime, engine, number["id"])).status == "connected"
    with runtime.task_session(engine.tenant_id) as session:
        stored = session.get(SenderNumber, number["id"])
        assert stored is not None
        assert stored.status.value == "connected"
        assert session.get(Campaign, campaign["id"]).status.value == "running"  # type: ignore[union-attr]
    stats = client.get(f"{API}/{campaign['id']}/stats", headers=admin.headers).json()
    assert stats["projected_finish_at"] is not None


def test_the_same_audience_blasted_without_pacing_gets_the_number_restricted(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    engine, number, campaign, _ = launch(client, factory, runtime, pacing=False)
    for _ in range(24):
        engine.step(HOUR)
    provider_id = _provider(runtime, engine, number["id"])
    assert engine.network.status(provider_id).status in {"restricted", "banned"}
    with runtime.task_session(engine.tenant_id) as session:
        paused = session.get(Campaign, campaign["id"])
        assert paused is not None
        assert paused.status.value == "paused"
        assert paused.status_reason
        assert number["display_number"] in paused.status_reason


def _provider(runtime: Runtime, engine: Engine, number_id: int) -> str:
    with runtime.task_session(engine.tenant_id) as session:
        stored = session.get(SenderNumber, number_id)
        assert stored is not None
        return stored.provider_id
