from __future__ import annotations

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from greenline.optouts import service as optouts
from tests.contacts.helpers import make_contact, seed_contacts, us_phone
from tests.factories import Factory


def test_opt_out_a_number_marks_its_contact(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact = make_contact(client, admin, phone="+14155552671")
    created = client.post(
        "/api/v1/unsubscribers/",
        json={"phone": "(415) 555-2671", "reason": "asked by phone", "campaign_id": 7},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    row = created.json()
    assert (row["phone"], row["reason"], row["source"], row["campaign_id"]) == (
        "+14155552671",
        "asked by phone",
        "manual",
        7,
    )

    after = client.get(f"/api/v1/contacts/{contact['id']}", headers=admin.headers).json()
    assert (after["status"], after["opted_out"]) == ("unsubscribed", True)

    again = client.post(
        "/api/v1/unsubscribers/", json={"phone": "+14155552671", "source": "whatsapp_keyword"}, headers=admin.headers
    )
    assert again.status_code == 200
    assert again.json()["date"] == row["date"]
    assert (again.json()["reason"], again.json()["source"]) == ("asked by phone", "whatsapp_keyword")

    history = client.get(f"/api/v1/contacts/{contact['id']}/consent", headers=admin.headers).json()["items"]
    assert [(e["kind"], e["source"]) for e in history] == [("opt_out", "whatsapp_keyword"), ("opt_out", "manual")]
    assert history[1]["actor_user_id"] == admin.user_id


def test_unsubscriber_validation(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    bad = client.post("/api/v1/unsubscribers/", json={"phone": "call me"}, headers=admin.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "phone"
    bad_source = client.post(
        "/api/v1/unsubscribers/", json={"phone": us_phone(1), "source": "Bad Source!"}, headers=admin.headers
    )
    assert bad_source.status_code == 422
    # A well-formed international number missing from the numbering metadata still opts out.
    unknown_range = client.post("/api/v1/unsubscribers/", json={"phone": "+1 999 555 0100"}, headers=admin.headers)
    assert unknown_range.status_code == 201
    assert unknown_range.json()["phone"] == "+19995550100"


def test_list_search_and_lookup(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    for i in range(12):
        client.post("/api/v1/unsubscribers/", json={"phone": us_phone(i)}, headers=admin.headers)
    client.post("/api/v1/unsubscribers/", json={"phone": "+4915123456789"}, headers=admin.headers)
    first = client.get("/api/v1/unsubscribers/?limit=5", headers=admin.headers).json()
    assert first["items"][0]["phone"] == "+4915123456789"
    seen = [u["phone"] for u in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/unsubscribers/?limit=5&cursor={cursor}", headers=admin.headers).json()
        seen += [u["phone"] for u in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 13

    found = client.get("/api/v1/unsubscribers/", params={"q": "+49 151"}, headers=admin.headers).json()
    assert [u["phone"] for u in found["items"]] == ["+4915123456789"]
    assert client.get("/api/v1/unsubscribers/?q=abc", headers=admin.headers).json()["items"] == []

    for form in ("+14155550003", "(415) 555-0003", "001 415 555 0003"):
        response = client.get(f"/api/v1/unsubscribers/{form}", headers=admin.headers)
        assert response.status_code == 200, form
        assert response.json()["phone"] == "+14155550003"
    assert client.get(f"/api/v1/unsubscribers/{us_phone(99)}", headers=admin.headers).status_code == 404
    assert client.get("/api/v1/unsubscribers/nonsense", headers=admin.headers).status_code == 422
    assert client.delete(f"/api/v1/unsubscribers/{us_phone(1)}", headers=admin.headers).status_code == 405


def test_resubscribing_needs_an_explicit_opt_in(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact = make_contact(client, admin, phone="+14155552671", name="Ana")
    url = f"/api/v1/contacts/{contact['id']}"
    out = client.post(f"{url}/opt-out", json={"reason": "too many messages"}, headers=admin.headers)
    assert out.status_code == 200, out.text
    assert (out.json()["status"], out.json()["opted_out"]) == ("unsubscribed", True)

    for status in ("active", "inactive"):
        refused = client.put(url, json={"status": status}, headers=admin.headers)
        assert refused.status_code == 409
        assert "opt-in" in refused.json()["error"]["message"]
        assert refused.json()["error"]["details"][0]["field"] == "status"
    # Re-sending the current state (a full-object PUT) is fine.
    assert client.put(url, json={"status": "unsubscribed", "name": "Ana L"}, headers=admin.headers).status_code == 200

    no_source = client.post(f"{url}/opt-in", json={}, headers=admin.headers)
    assert no_source.status_code == 422
    assert no_source.json()["error"]["details"][0]["field"] == "body.source"
    back = client.post(f"{url}/opt-in", json={"source": "web form", "note": "ticked the box"}, headers=admin.headers)
    assert back.status_code == 200
    body = back.json()
    assert (body["status"], body["opted_out"], body["opt_in_source"]) == ("active", False, "web form")
    assert body["opt_in_at"] is not None
    assert client.get(f"/api/v1/unsubscribers/{contact['phone']}", headers=admin.headers).status_code == 404

    history = client.get(f"{url}/consent", headers=admin.headers).json()["items"]
    assert [(e["kind"], e["source"], e["reason"]) for e in history] == [
        ("opt_in", "web form", "ticked the box"),
        ("opt_out", "manual", "too many messages"),
    ]


def test_status_unsubscribed_opts_out_and_opt_outs_outlive_contacts(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = make_contact(client, admin, phone=us_phone(1), status="unsubscribed")
    assert created["opted_out"] is True
    other = make_contact(client, admin, phone=us_phone(2))
    updated = client.put(f"/api/v1/contacts/{other['id']}", json={"status": "unsubscribed"}, headers=admin.headers)
    assert updated.json()["opted_out"] is True
    assert client.get(f"/api/v1/unsubscribers/{us_phone(2)}", headers=admin.headers).status_code == 200

    assert client.delete(f"/api/v1/contacts/{other['id']}", headers=admin.headers).status_code == 204
    assert client.get(f"/api/v1/unsubscribers/{us_phone(2)}", headers=admin.headers).status_code == 200
    # Re-creating the contact does not re-subscribe the number, even with a consent source.
    again = make_contact(client, admin, phone=us_phone(2), status="active", opt_in_source="import")
    assert (again["status"], again["opted_out"], again["opt_in_source"]) == ("unsubscribed", True, None)
    claim = client.put(f"/api/v1/contacts/{again['id']}", json={"opt_in_source": "import"}, headers=admin.headers)
    assert claim.status_code == 409
    assert claim.json()["error"]["details"][0]["field"] == "opt_in_source"
    # Sending back the current (empty) consent fields is not a claim.
    same = client.put(
        f"/api/v1/contacts/{again['id']}", json={"opt_in_source": None, "name": "B"}, headers=admin.headers
    )
    assert same.status_code == 200
    moved = client.put(f"/api/v1/contacts/{created['id']}", json={"phone": us_phone(3)}, headers=admin.headers)
    assert moved.json()["status"] == "unsubscribed"


def test_pipeline_opt_out_service(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    seed_contacts(factory.runtime, admin.tenant_id, [{"phone": us_phone(5)}])
    with factory.runtime.task_session(admin.tenant_id) as session:
        _, created = optouts.opt_out(session, "14155550005", reason="STOP", source="whatsapp_keyword", campaign_id=3)
        _, again = optouts.opt_out(session, "+14155550005", reason="STOP", source="whatsapp_keyword")
        assert (created, again) == (True, False)
        assert optouts.is_opted_out(session, "+1 415 555 0005")
    contact = client.get("/api/v1/contacts/?opted_out=true", headers=admin.headers).json()["items"]
    assert [(c["phone"], c["status"]) for c in contact] == [(us_phone(5), "unsubscribed")]
    other = factory.tenant()
    assert client.get(f"/api/v1/unsubscribers/{us_phone(5)}", headers=other.headers).status_code == 404


def test_opt_out_permissions(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    viewer = factory.member(admin, TenantRole.viewer)
    sales = factory.member(admin, TenantRole.sales)
    assert client.post("/api/v1/unsubscribers/", json={"phone": us_phone(1)}, headers=viewer.headers).status_code == 403
    assert client.post("/api/v1/unsubscribers/", json={"phone": us_phone(1)}, headers=sales.headers).status_code == 201
    assert client.get("/api/v1/unsubscribers/", headers=viewer.headers).status_code == 200
    key = factory.api_key(admin)
    by_key = client.post("/api/v1/unsubscribers/", json={"phone": us_phone(2)}, headers=key.headers)
    assert by_key.json()["source"] == "api"
