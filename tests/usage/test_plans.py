"""Plan quotas: the table of plans, and this month's usage against the tenant's plan in /usage/stats."""

from __future__ import annotations

import datetime as dt
import re
import typing

from fastapi.testclient import TestClient

from greenline.core.runtime import Runtime
from greenline.tenants.plans import PLANS
from greenline.tenants.schemas import TenantCreate
from greenline.usage import service
from tests.factories import Factory


def _flush(runtime: Runtime) -> None:
    runtime.meter.push()
    with runtime.task_session() as session:
        service.flush_pending(session, runtime.counters)


def test_every_plan_a_tenant_can_have_has_quotas() -> None:
    """The plan names the tenant schema accepts and the quota table name the same plans."""
    plan_type = typing.get_type_hints(TenantCreate, include_extras=True)["plan"]
    pattern = next(m.pattern for m in plan_type.__metadata__ if getattr(m, "pattern", None))
    assert set(re.fullmatch(r"\^\((.*)\)\$", pattern).group(1).split("|")) == set(PLANS)  # type: ignore[union-attr]


def test_plans_endpoint_lists_each_plan_with_its_quotas(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    response = client.get("/api/v1/tenants/plans", headers=a.headers)
    assert response.status_code == 200, response.text
    plans = {p["name"]: p["limits"] for p in response.json()}
    assert plans["free"] == {"api_calls": 10_000, "messages": 1_000}
    assert plans["enterprise"] == {"api_calls": None, "messages": None}
    assert set(plans) == set(PLANS)
    assert client.get("/api/v1/tenants/plans").status_code == 401


def test_usage_shows_this_months_use_against_the_plan(client: TestClient, factory: Factory, runtime: Runtime) -> None:
    a = factory.tenant()
    b = factory.tenant()
    assert a.tenant_id is not None
    assert b.tenant_id is not None
    today = dt.datetime.now(dt.UTC).date()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    service.record(runtime.meter, a.tenant_id, "messages_sent", 300, day=today)
    service.record(runtime.meter, a.tenant_id, "messages_sent", 5_000, day=last_month)  # not this month
    service.record(runtime.meter, a.tenant_id, "api_calls", 2_000, day=today)
    service.record(runtime.meter, b.tenant_id, "messages_sent", 900, day=today)  # another tenant's
    _flush(runtime)

    url = f"/api/v1/tenants/{a.tenant_id}/usage/stats"
    stats = client.get(url, headers=a.headers).json()
    assert stats["plan"] == "free"
    assert stats["limits"] == {"api_calls": 10_000, "messages": 1_000}
    assert stats["month_start"] == today.replace(day=1).isoformat()
    assert stats["used_this_month"]["messages"] == 300
    assert 2_000 <= stats["used_this_month"]["api_calls"] < 2_100  # plus the factory's and this test's requests
    assert stats["remaining"]["messages"] == 700
    assert stats["remaining"]["api_calls"] == 10_000 - stats["used_this_month"]["api_calls"]
    # The existing daily series is unchanged.
    assert stats["total_messages_sent"] >= 300
    assert {"tenant_id", "start", "end", "days", "total_api_calls"} <= set(stats)


def test_remaining_is_never_negative_and_unlimited_plans_have_none(
    client: TestClient, factory: Factory, runtime: Runtime
) -> None:
    a = factory.tenant()
    assert a.tenant_id is not None
    service.record(runtime.meter, a.tenant_id, "messages_sent", 1_500)
    _flush(runtime)
    url = f"/api/v1/tenants/{a.tenant_id}/usage/stats"
    assert client.get(url, headers=a.headers).json()["remaining"]["messages"] == 0

    superadmin = factory.superadmin()
    changed = client.put(f"/api/v1/tenants/{a.tenant_id}", json={"plan": "enterprise"}, headers=superadmin.headers)
    assert changed.status_code == 200, changed.text
    stats = client.get(url, headers=a.headers).json()
    assert stats["plan"] == "enterprise"
    assert stats["limits"] == {"api_calls": None, "messages": None}
    assert stats["remaining"] == {"api_calls": None, "messages": None}
    assert stats["used_this_month"]["messages"] == 1_500
