from __future__ import annotations

from fastapi.testclient import TestClient

from greenline.core.permissions import TenantRole
from tests.contacts.helpers import all_pages, make_contact, seed_contacts, us_phone
from tests.factories import Factory


def _field(response_json: dict[str, object]) -> object:
    details = response_json["error"]["details"]  # type: ignore[index]
    return details[0]["field"]  # type: ignore[index]


def test_create_stores_e164_and_derives_locale(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact = make_contact(
        client,
        admin,
        phone="(415) 555-2671",
        name="  Ana Lima ",
        email="Ana@Example.COM",
        tags=[" vip ", "VIP", "new  customer"],
        custom_data={"orders": 3, "ltv": 120.5, "newsletter": True, "birthday": "1990-04-01"},
        priority="high",
        source="website",
        opt_in_source="checkout form",
    )
    assert contact["phone"] == "+14155552671"
    assert contact["name"] == "Ana Lima"
    assert contact["email"] == "ana@example.com"
    assert contact["tags"] == ["vip", "new customer"]
    assert contact["custom_data"] == {"orders": 3, "ltv": 120.5, "newsletter": True, "birthday": "1990-04-01"}
    assert (contact["country"], contact["timezone"], contact["language"]) == ("US", "America/Los_Angeles", "en")
    assert contact["status"] == "active"
    assert contact["opted_out"] is False
    assert contact["opt_in_source"] == "checkout form"
    assert contact["opt_in_at"] is not None

    fetched = client.get(f"/api/v1/contacts/{contact['id']}", headers=admin.headers)
    assert fetched.status_code == 200
    assert fetched.json() == contact


def test_national_numbers_use_the_tenant_default_country(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    tenant = client.put(
        f"/api/v1/tenants/{admin.tenant_id}", json={"settings": {"default_country": "DE"}}, headers=admin.headers
    )
    assert tenant.status_code == 200, tenant.text
    contact = make_contact(client, admin, phone="0151 23456789")
    assert contact["phone"] == "+4915123456789"
    assert (contact["country"], contact["timezone"], contact["language"]) == ("DE", "Europe/Berlin", "de")
    # An explicit country reads the number instead, and given locale fields win over derived ones.
    other = make_contact(client, admin, phone="(415) 555-0101", country="US", timezone="America/New_York")
    assert other["phone"] == "+14155550101"
    assert other["timezone"] == "America/New_York"


def test_invalid_phone_is_422_naming_phone_with_the_reason(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    for phone, reason in (
        ("12", "impossible length"),
        ("hello", "not a phone number"),
        ("+1 415 000 0000", "not a valid"),
    ):
        response = client.post("/api/v1/contacts/", json={"phone": phone}, headers=admin.headers)
        assert response.status_code == 422, response.text
        assert _field(response.json()) == "phone"
        assert reason in response.json()["error"]["message"]


def test_duplicate_phone_is_409_naming_phone(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    first = make_contact(client, admin, phone="+14155552671")
    response = client.post("/api/v1/contacts/", json={"phone": "415-555-2671"}, headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["error"]["details"][0] == {"field": "phone", "problem": "taken", "contact_id": first["id"]}
    # Another tenant may hold the same number.
    other = factory.tenant()
    make_contact(client, other, phone="+14155552671")


def test_field_validation_names_the_field(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    cases = [
        ({"tags": ["x" * 51]}, "body.tags"),
        ({"tags": [f"t{i}" for i in range(51)]}, "body.tags"),
        ({"tags": ["a;b"]}, "body.tags"),
        ({"custom_data": {"1bad": 1}}, "body.custom_data"),
        ({"custom_data": {f"k{i}": i for i in range(101)}}, "body.custom_data"),
        ({"custom_data": {"nested": {"a": 1}}}, "body.custom_data.nested"),
        ({"email": "not-an-email"}, "body.email"),
        ({"priority": "extreme"}, "body.priority"),
        ({"timezone": "Mars/Olympus"}, "body.timezone"),
        ({"country": "USA"}, "body.country"),
        ({"status": "gone"}, "body.status"),
    ]
    for extra, field in cases:
        response = client.post("/api/v1/contacts/", json={"phone": "+14155552671", **extra}, headers=admin.headers)
        assert response.status_code == 422, (extra, response.text)
        assert str(_field(response.json())).startswith(field), (extra, response.json())


def test_update_is_partial_and_revalidates_the_phone(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact = make_contact(
        client, admin, phone="+14155552671", name="Ana", tags=["vip"], custom_data={"orders": 1, "city": "SF"}
    )
    taken = make_contact(client, admin, phone="+14155550102")
    url = f"/api/v1/contacts/{contact['id']}"

    updated = client.put(url, json={"custom_data": {"orders": 2, "city": None, "plan": "gold"}}, headers=admin.headers)
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["custom_data"] == {"orders": 2, "plan": "gold"}
    assert (body["name"], body["tags"], body["phone"]) == ("Ana", ["vip"], "+14155552671")

    moved = client.put(url, json={"phone": "+49 151 23456789", "name": None}, headers=admin.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["phone"] == "+4915123456789"
    assert moved.json()["country"] == "DE"
    assert moved.json()["timezone"] == "Europe/Berlin"
    assert moved.json()["name"] is None

    duplicate = client.put(url, json={"phone": taken["phone"]}, headers=admin.headers)
    assert duplicate.status_code == 409
    assert _field(duplicate.json()) == "phone"
    invalid = client.put(url, json={"phone": "123"}, headers=admin.headers)
    assert invalid.status_code == 422
    assert _field(invalid.json()) == "phone"
    null_phone = client.put(url, json={"phone": None}, headers=admin.headers)
    assert null_phone.status_code == 422
    assert _field(null_phone.json()) == "phone"
    assert client.get(url, headers=admin.headers).json()["phone"] == "+4915123456789"


def test_delete_contact(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact = make_contact(client, admin, phone="+14155552671")
    url = f"/api/v1/contacts/{contact['id']}"
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(url, headers=admin.headers).status_code == 404
    assert client.delete(url, headers=admin.headers).status_code == 404
    assert client.put(url, json={"name": "x"}, headers=admin.headers).status_code == 404


def test_tags_add_and_remove(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact = make_contact(client, admin, phone="+14155552671", tags=["VIP"])
    url = f"/api/v1/contacts/{contact['id']}/tags"
    added = client.post(url, json={"tags": ["vip", " Newsletter ", "lead"]}, headers=admin.headers)
    assert added.status_code == 200, added.text
    assert added.json()["tags"] == ["VIP", "Newsletter", "lead"]

    removed = client.delete(f"{url}/newsletter", headers=admin.headers)
    assert removed.status_code == 200
    assert removed.json()["tags"] == ["VIP", "lead"]
    # Removing an absent tag is a no-op, not an error.
    assert client.delete(f"{url}/absent", headers=admin.headers).json()["tags"] == ["VIP", "lead"]

    too_many = client.post(url, json={"tags": [f"t{i}" for i in range(49)]}, headers=admin.headers)
    assert too_many.status_code == 422
    assert _field(too_many.json()) == "tags"
    assert client.post(url, json={"tags": []}, headers=admin.headers).status_code == 422
    assert client.post("/api/v1/contacts/999999/tags", json={"tags": ["x"]}, headers=admin.headers).status_code == 404


def test_list_is_keyset_paginated_newest_first(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    seed_contacts(factory.runtime, admin.tenant_id, [{"phone": us_phone(i)} for i in range(230)])
    newest = all_pages(client, admin, "/api/v1/contacts/", limit=50)
    assert len(newest) == 230
    assert [c["phone"] for c in newest[:2]] == [us_phone(229), us_phone(228)]
    assert len({c["id"] for c in newest}) == 230
    by_id = all_pages(client, admin, "/api/v1/contacts/?sort=id", limit=100)
    assert [c["id"] for c in by_id] == sorted(c["id"] for c in newest)

    first = client.get("/api/v1/contacts/?limit=10", headers=admin.headers).json()
    assert "total" not in first
    bad = client.get("/api/v1/contacts/?cursor=garbage", headers=admin.headers)
    assert bad.status_code == 422
    assert _field(bad.json()) == "cursor"
    assert client.get("/api/v1/contacts/?limit=501", headers=admin.headers).status_code == 422


def test_search_by_name_email_and_partial_phone(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    ana = make_contact(client, admin, phone="+14155552671", name="Ana Lima", email="ana@shop.test")
    bob = make_contact(client, admin, phone="+4915123456789", name="Bob Anders", email="bob@mail.test")
    make_contact(client, admin, phone="+14155550199", name="Carla")

    def found(q: str) -> list[int]:
        response = client.get("/api/v1/contacts/search", params={"q": q}, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    # Prefix matches come first: "Ana Lima" starts with "an", "Bob Anders" only contains it.
    assert found("an") == [ana["id"], bob["id"]]
    assert found("SHOP.test") == [ana["id"]]
    for typed in ("2671", "+1 415 555 2671", "14155552671", "415-555-26"):
        assert found(typed) == [ana["id"]], typed
    assert found("0151 2345") == [bob["id"]]
    assert found("%") == []
    assert client.get("/api/v1/contacts/search?q=", headers=admin.headers).status_code == 422

    page = client.get("/api/v1/contacts/search", params={"q": "a", "limit": 1}, headers=admin.headers).json()
    assert len(page["items"]) == 1
    rest = client.get(
        "/api/v1/contacts/search", params={"q": "a", "limit": 5, "cursor": page["next_cursor"]}, headers=admin.headers
    ).json()
    assert len(page["items"]) + len(rest["items"]) == 3


def test_validate_phone(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    url = "/api/v1/contacts/validate-phone"
    ok = client.post(url, json={"phone": "0151 23456789", "country": "DE"}, headers=admin.headers)
    assert ok.status_code == 200
    assert ok.json() == {
        "valid": True,
        "e164": "+4915123456789",
        "international": "+49 1512 3456789",
        "country": "DE",
        "number_type": "mobile",
        "timezone": "Europe/Berlin",
        "language": "de",
        "reason": None,
    }
    national = client.post(url, json={"phone": "(415) 555-2671"}, headers=admin.headers).json()
    assert national["e164"] == "+14155552671"
    bad = client.post(url, json={"phone": "12345"}, headers=admin.headers)
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert bad.json()["reason"]
    assert client.post(url, json={}, headers=admin.headers).status_code == 422
    assert client.post(url, json={"phone": "1", "country": "Germany"}, headers=admin.headers).status_code == 422


def test_roles_and_api_keys(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    sales = factory.member(admin, TenantRole.sales)
    viewer = factory.member(admin, TenantRole.viewer)
    key = factory.api_key(admin, scopes=["contacts:read"])
    created = make_contact(client, sales, phone="+14155552671")
    assert client.get(f"/api/v1/contacts/{created['id']}", headers=viewer.headers).status_code == 200
    assert client.get("/api/v1/contacts/", headers=key.headers).status_code == 200
    for actor in (viewer, key):
        response = client.post("/api/v1/contacts/", json={"phone": "+14155550100"}, headers=actor.headers)
        assert response.status_code == 403
    assert client.get("/api/v1/contacts/").status_code == 401


def test_other_tenants_contacts_are_not_found(client: TestClient, factory: Factory) -> None:
    a = factory.tenant()
    b = factory.tenant()
    contact = make_contact(client, a, phone="+14155552671", tags=["vip"])
    base = f"/api/v1/contacts/{contact['id']}"
    attempts = [
        client.post(f"{base}/tags", json={"tags": ["x"]}, headers=b.headers),
        client.delete(f"{base}/tags/vip", headers=b.headers),
        client.post(f"{base}/opt-out", json={}, headers=b.headers),
        client.post(f"{base}/opt-in", json={"source": "x"}, headers=b.headers),
        client.get(f"{base}/consent", headers=b.headers),
    ]
    assert [r.status_code for r in attempts] == [404] * 5
    assert client.get(base, headers=a.headers).json() == contact
    assert client.get("/api/v1/contacts/search?q=2671", headers=b.headers).json()["items"] == []
