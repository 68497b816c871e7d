"""Lead lists: filters, sorting, keyset pages, the fixed views, advanced filter and search; the sales scope."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from greenline.core.pagination import encode_cursor
from greenline.core.permissions import TenantRole
from tests.factories import Factory
from tests.leads.helpers import error_field, ids, make_contact, make_lead, set_lead

NOW = dt.datetime.now(dt.UTC)

LEADS = "/api/v1/leads"


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_list_filters_sorts_and_pages(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    rt = factory.runtime
    a = make_lead(client, rt, admin, score=10, priority="low")
    b = make_lead(client, rt, admin, score=50, priority="high", assigned_to=admin.user_id)
    c = make_lead(client, rt, admin, score=90, status="qualified", next_follow_up_at=_iso(NOW + dt.timedelta(days=2)))
    d = make_lead(client, rt, admin, score=50, assigned_to=seller.user_id, next_follow_up_at=_iso(NOW))
    h = admin.headers

    assert ids(client.get(f"{LEADS}/", headers=h)) == [d["id"], c["id"], b["id"], a["id"]]
    assert ids(client.get(f"{LEADS}/?order=asc", headers=h)) == [a["id"], b["id"], c["id"], d["id"]]
    assert ids(client.get(f"{LEADS}/?sort=score", headers=h)) == [c["id"], d["id"], b["id"], a["id"]]
    assert ids(client.get(f"{LEADS}/?sort=next_follow_up", headers=h)) == [d["id"], c["id"], a["id"], b["id"]]
    assert ids(client.get(f"{LEADS}/?status=qualified", headers=h)) == [c["id"]]
    assert ids(client.get(f"{LEADS}/?priority=high", headers=h)) == [b["id"]]
    assert ids(client.get(f"{LEADS}/?assigned_to=me", headers=h)) == [b["id"]]
    assert ids(client.get(f"{LEADS}/?assigned_to={seller.user_id}", headers=h)) == [d["id"]]
    assert ids(client.get(f"{LEADS}/?min_score=50&max_score=60", headers=h)) == [d["id"], b["id"]]
    assert ids(client.get(f"{LEADS}/?has_follow_up=true", headers=h)) == [d["id"], c["id"]]
    assert ids(client.get(f"{LEADS}/?has_follow_up=false", headers=h)) == [b["id"], a["id"]]

    for sort in ("created", "score", "next_follow_up"):
        seen, cursor = [], None
        while True:
            url = f"{LEADS}/?sort={sort}&limit=1" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(url, headers=h).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted([a["id"], b["id"], c["id"], d["id"]]), sort
        assert len(seen) == 4

    for query, field in [
        ("min_score=60&max_score=50", "max_score"),
        ("max_score=101", "max_score"),
        ("assigned_to=someone", "assigned_to"),
        ("sort=value", "sort"),
        ("cursor=not-a-cursor", "cursor"),
        (f"cursor={encode_cursor([None, None])}", "cursor"),
        (f"sort=score&cursor={encode_cursor([10**30, 1])}", "cursor"),
        (f"cursor={encode_cursor(['0001-01-01T00:00:00+05:00', 1])}", "cursor"),
        ("limit=0", "limit"),
    ]:
        response = client.get(f"{LEADS}/?{query}", headers=h)
        assert (response.status_code, error_field(response)) == (422, field), query


def test_high_priority_overdue_and_hot(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    rt, h = factory.runtime, admin.headers
    urgent = make_lead(client, rt, admin, priority="urgent", score=81)
    high_won = make_lead(client, rt, admin, priority="high", status="won", score=95)
    high = make_lead(client, rt, admin, priority="high", score=80)
    make_lead(client, rt, admin, priority="medium", score=99, status="lost", lost_reason="gone")
    hot = make_lead(client, rt, admin, priority="low", score=99)
    late = make_lead(client, rt, admin, next_follow_up_at=_iso(NOW - dt.timedelta(hours=1)))
    later = make_lead(client, rt, admin, next_follow_up_at=_iso(NOW - dt.timedelta(days=3)))
    make_lead(client, rt, admin, next_follow_up_at=_iso(NOW + dt.timedelta(hours=1)))
    make_lead(client, rt, admin, status="won", next_follow_up_at=_iso(NOW - dt.timedelta(days=1)))

    assert ids(client.get("/api/v1/leads/high-priority", headers=h)) == [high["id"], urgent["id"]]
    assert ids(client.get("/api/v1/leads/overdue", headers=h)) == [later["id"], late["id"]]
    assert ids(client.get("/api/v1/leads/hot-leads", headers=h)) == [hot["id"], urgent["id"]]
    assert high_won["id"] not in ids(client.get("/api/v1/leads/hot-leads", headers=h))
    page = client.get("/api/v1/leads/hot-leads?limit=1", headers=h).json()
    rest = client.get(f"/api/v1/leads/hot-leads?limit=1&cursor={page['next_cursor']}", headers=h).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [hot["id"], urgent["id"]]


def test_advanced_filter(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    rt, h = factory.runtime, admin.headers
    vip = make_contact(rt, admin, tags=["vip", "solar"])
    a = make_lead(client, rt, admin, contact_id=vip, value="100.00", source="ads", status="contacted")
    b = make_lead(client, rt, admin, value="2500.00", priority="urgent", assigned_to=admin.user_id, source="ads")
    c = make_lead(client, rt, admin, status="proposal", next_follow_up_at=_iso(NOW + dt.timedelta(days=5)))
    set_lead(rt, admin, a["id"], created_at=NOW - dt.timedelta(days=10))
    set_lead(rt, admin, b["id"], created_at=NOW - dt.timedelta(days=2))

    def found(query: str) -> list[int]:
        return sorted(ids(client.get(f"/api/v1/leads/filter?{query}", headers=h)))

    assert found("statuses=contacted&statuses=proposal") == sorted([a["id"], c["id"]])
    assert found("priorities=urgent&priorities=high") == [b["id"]]
    assert found("min_value=100&max_value=2000") == [a["id"]]
    assert found("min_value=100.01") == [b["id"]]
    since = (NOW - dt.timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert found(f"created_from={since}") == sorted([b["id"], c["id"]])
    assert found(f"created_to={since}") == [a["id"]]
    window = f"follow_up_from={(NOW + dt.timedelta(days=4)).date()}&follow_up_to={(NOW + dt.timedelta(days=6)).date()}"
    assert found(window) == [c["id"]]
    assert found("assigned=true") == [b["id"]]
    assert found("assigned=false") == sorted([a["id"], c["id"]])
    assert found(f"assigned_to={admin.user_id}") == [b["id"]]
    assert found("source=ads&min_score=0") == sorted([a["id"], b["id"]])
    assert found("tag=vip") == [a["id"]]
    assert found("tag=vi") == []
    assert found("tag=solar&statuses=new") == []

    for query, field in [
        ("statuses=open", "statuses.0"),
        ("min_value=-1", "min_value"),
        ("min_value=50&max_value=10", "max_value"),
        ("created_from=2024-02-01T00:00:00Z&created_to=2024-01-01T00:00:00Z", "created_to"),
        ("created_from=0001-01-01T00:00:00%2B05:00", "created_from"),
        ("follow_up_to=yesterday", "follow_up_to"),
    ]:
        response = client.get(f"/api/v1/leads/filter?{query}", headers=h)
        assert (response.status_code, error_field(response)) == (422, field), query


def test_search(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    rt, h = factory.runtime, admin.headers
    ana = make_contact(rt, admin, name="Ana Lima", email="ana@solar.test", phone="+14155550177")
    a = make_lead(client, rt, admin, contact_id=ana, title="Roof", notes="Call after lunch")
    b = make_lead(client, rt, admin, title="Solar install 100% green")
    make_lead(client, rt, admin, title="Unrelated")

    def found(q: str) -> list[int]:
        return sorted(ids(client.get("/api/v1/leads/search", params={"q": q}, headers=h)))

    assert found("roof") == [a["id"]]
    assert found("LUNCH") == [a["id"]]
    assert found("ana li") == [a["id"]]
    assert found("solar") == sorted([a["id"], b["id"]])  # contact email and lead title
    assert found("(415) 555-0177") == [a["id"]]
    assert found("100%") == [b["id"]]
    assert found("0%") == [b["id"]]
    assert found("_") == []
    empty = client.get("/api/v1/leads/search", params={"q": "  "}, headers=h)
    assert (empty.status_code, error_field(empty)) == (422, "q")


def test_sales_users_see_and_touch_only_their_leads(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seller = factory.member(admin, TenantRole.sales)
    other_seller = factory.member(admin, TenantRole.sales)
    rt = factory.runtime
    mine = make_lead(client, rt, admin, assigned_to=seller.user_id, score=95)
    theirs = make_lead(client, rt, admin, assigned_to=other_seller.user_id, score=95)
    unassigned = make_lead(client, rt, admin, score=95)
    s = seller.headers

    assert ids(client.get(f"{LEADS}/", headers=s)) == [mine["id"]]
    assert ids(client.get("/api/v1/leads/hot-leads", headers=s)) == [mine["id"]]
    assert ids(client.get("/api/v1/leads/search", params={"q": "+1"}, headers=s)) == [mine["id"]]
    assert ids(client.get(f"/api/v1/leads/filter?assigned_to={other_seller.user_id}", headers=s)) == []
    for lead in (theirs, unassigned):
        url = f"{LEADS}/{lead['id']}"
        assert client.get(url, headers=s).status_code == 404
        assert client.put(url, json={"score": 1}, headers=s).status_code == 404
        assert client.put(f"{url}/status", json={"status": "won"}, headers=s).status_code == 404
        assert client.get(f"{url}/history", headers=s).status_code == 404
        assert client.delete(url, headers=s).status_code == 404

    url = f"{LEADS}/{mine['id']}"
    assert client.put(f"{url}/status", json={"status": "contacted"}, headers=s).status_code == 200
    for body in ({"assigned_to": other_seller.user_id}, {"assigned_to": None}):
        refused = client.put(f"{url}/assign", json=body, headers=s)
        assert (refused.status_code, error_field(refused)) == (403, "assigned_to")
        assert client.put(url, json=body, headers=s).status_code == 403
    assert client.put(f"{url}/assign", json={"assigned_to": seller.user_id}, headers=s).status_code == 200

    # A sales user's new lead is theirs; they cannot create one for someone else.
    created = make_lead(client, rt, seller)
    assert created["assigned_to"] == seller.user_id
    body = {"contact_id": make_contact(rt, admin), "assigned_to": other_seller.user_id}
    assert client.post(f"{LEADS}/", json=body, headers=s).status_code == 403
    assert len(ids(client.get(f"{LEADS}/", headers=admin.headers))) == 4
