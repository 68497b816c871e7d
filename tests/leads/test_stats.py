"""Pipeline and conversion statistics with exact numbers from a known history."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from greenline.models.enums import LeadStatus
from tests.factories import Factory
from tests.leads.helpers import error_field, make_lead, set_history

S = LeadStatus

LEADS = "/api/v1/leads"


def _stages(body: dict[str, Any]) -> dict[str, tuple[int, str, dict[str, str]]]:
    return {s["status"]: (s["count"], s["total_value"], s["value_by_currency"]) for s in body["stages"]}


def test_pipeline_counts_every_stage(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    rt = factory.runtime
    make_lead(client, rt, admin, value="100.00")
    make_lead(client, rt, admin)
    make_lead(client, rt, admin, status="contacted", value="250.50", currency="EUR")
    make_lead(client, rt, admin, status="proposal", value="1000")
    make_lead(client, rt, admin, status="won", value="500", assigned_to=seller.user_id)
    make_lead(client, rt, admin, status="won", value="300")
    make_lead(client, rt, admin, status="won", value="200", currency="EUR")
    make_lead(client, rt, admin, status="lost", value="50", lost_reason="price", assigned_to=seller.user_id)

    body = client.get("/api/v1/leads/stats/pipeline", headers=admin.headers).json()
    assert [s["status"] for s in body["stages"]] == ["new", "contacted", "qualified", "proposal", "won", "lost"]
    assert _stages(body) == {
        "new": (2, "100.00", {"USD": "100.00"}),
        "contacted": (1, "250.50", {"EUR": "250.50"}),
        "qualified": (0, "0.00", {}),
        "proposal": (1, "1000.00", {"USD": "1000.00"}),
        "won": (3, "1000.00", {"EUR": "200.00", "USD": "800.00"}),
        "lost": (1, "50.00", {"USD": "50.00"}),
    }
    totals = {k: v for k, v in body.items() if k != "stages"}
    assert totals == {
        "total_count": 8,
        "total_value": "2400.50",
        "open_count": 4,
        "open_value": "1350.50",
        "won_count": 3,
        "lost_count": 1,
        "win_rate": 0.75,
    }

    own = client.get("/api/v1/leads/stats/pipeline", headers=seller.headers).json()
    assert (own["total_count"], own["total_value"], own["win_rate"]) == (2, "550.00", 0.5)
    assert _stages(own)["won"] == (1, "500.00", {"USD": "500.00"})


def test_pipeline_of_an_empty_tenant(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    body = client.get("/api/v1/leads/stats/pipeline", headers=admin.headers).json()
    assert [(s["status"], s["count"]) for s in body["stages"]] == [
        (status, 0) for status in ("new", "contacted", "qualified", "proposal", "won", "lost")
    ]
    assert (body["total_count"], body["total_value"], body["win_rate"]) == (0, "0.00", None)


def _march(day: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2024, month, day, 12, tzinfo=dt.UTC)


HISTORIES: list[list[tuple[LeadStatus | None, LeadStatus, dt.datetime]]] = [
    # 1: the whole pipeline inside the range
    [(None, S.new, _march(2)), (S.new, S.contacted, _march(3)), (S.contacted, S.qualified, _march(5)),
     (S.qualified, S.proposal, _march(10)), (S.proposal, S.won, _march(20))],
    # 2: contacted, then lost
    [(None, S.new, _march(4)), (S.new, S.contacted, _march(6)), (S.contacted, S.lost, _march(7))],
    # 3: skips contacted; reaches proposal after the range (outcomes count up to now)
    [(None, S.new, _march(8)), (S.new, S.qualified, _march(9)), (S.qualified, S.proposal, _march(5, 4))],
    # 4: entered new before the range; skips proposal on the way to won
    [(None, S.new, _march(20, 2)), (S.new, S.contacted, _march(2)), (S.contacted, S.qualified, _march(3)),
     (S.qualified, S.won, _march(4))],
    # 5: still new
    [(None, S.new, _march(15))],
    # 6: every entry before the range except won
    [(None, S.new, _march(1, 2)), (S.new, S.contacted, _march(2, 2)), (S.contacted, S.won, _march(10))],
    # 7: contacted only after the range
    [(None, S.new, _march(10)), (S.new, S.contacted, _march(2, 4))],
    # 8: entered exactly at the start; lost, then reopened
    [(None, S.new, dt.datetime(2024, 3, 1, tzinfo=dt.UTC)), (S.new, S.lost, _march(2)),
     (S.lost, S.contacted, _march(3))],
    # 9: entered exactly at the end (excluded)
    [(None, S.new, dt.datetime(2024, 4, 1, tzinfo=dt.UTC)), (S.new, S.won, _march(2, 4))],
]  # fmt: skip

RANGE = {"start": "2024-03-01T00:00:00Z", "end": "2024-04-01T00:00:00Z"}


def _funnel(body: dict[str, Any]) -> list[tuple[str, str, int, int, float | None]]:
    rows = [*body["stages"], body["overall"]]
    return [(r["from_status"], r["to_status"], r["entered"], r["converted"], r["rate"]) for r in rows]


def test_conversion_from_a_known_history(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    rt = factory.runtime
    for number, history in enumerate(HISTORIES, start=1):
        lead = make_lead(client, rt, admin, assigned_to=seller.user_id if number in (1, 2) else None)
        set_history(rt, admin, lead["id"], history)

    response = client.get("/api/v1/leads/stats/conversion", params=RANGE, headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["start"], body["end"]) == ("2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z")
    assert _funnel(body) == [
        ("new", "contacted", 6, 5, 0.8333),
        ("contacted", "qualified", 4, 2, 0.5),
        ("qualified", "proposal", 3, 3, 1.0),
        ("proposal", "won", 1, 1, 1.0),
        ("new", "won", 6, 1, 0.1667),
    ]

    own = client.get("/api/v1/leads/stats/conversion", params=RANGE, headers=seller.headers).json()
    assert _funnel(own) == [
        ("new", "contacted", 2, 2, 1.0),
        ("contacted", "qualified", 2, 1, 0.5),
        ("qualified", "proposal", 1, 1, 1.0),
        ("proposal", "won", 1, 1, 1.0),
        ("new", "won", 2, 1, 0.5),
    ]

    before = client.get(
        "/api/v1/leads/stats/conversion", params={"start": "2023-01-01", "end": "2023-02-01"}, headers=admin.headers
    )
    assert _funnel(before.json())[0] == ("new", "contacted", 0, 0, None)


def test_conversion_defaults_to_the_last_30_days(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    lead = make_lead(client, factory.runtime, admin)
    client.put(f"{LEADS}/{lead['id']}/status", json={"status": "contacted"}, headers=admin.headers)
    body = client.get("/api/v1/leads/stats/conversion", headers=admin.headers).json()
    start, end = (dt.datetime.fromisoformat(body[k]) for k in ("start", "end"))
    assert end - start == dt.timedelta(days=30)
    assert _funnel(body)[:2] == [("new", "contacted", 1, 1, 1.0), ("contacted", "qualified", 1, 0, 0.0)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2024-04-01T00:00:00Z", "end": "2024-03-01T00:00:00Z"}, "start"),
        ({"start": "2024-03-01T00:00:00Z", "end": "2024-03-01T00:00:00Z"}, "start"),
        ({"start": "2020-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}, "start"),
        ({"start": "soon"}, "start"),
        ({"end": "0001-01-01T00:00:00+01:00"}, "end"),
        ({"end": "9999-12-31T23:59:59-01:00"}, "end"),
    ],
)
def test_conversion_range_is_validated(
    client: TestClient, factory: Factory, params: dict[str, str], field: str
) -> None:
    admin = factory.tenant()
    response = client.get("/api/v1/leads/stats/conversion", params=params, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert error_field(response) == field
