"""Linking endpoints refuse numbers they do not apply to, and bad input, with clear errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.campaigns.helpers import sender
from tests.factories import Factory


def test_qr_and_pairing_codes_are_only_for_linked_devices(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    number = sender(client, admin)
    qr = client.get("/api/v1/whatsapp/qr", params={"number_id": number["id"]}, headers=admin.headers)
    assert qr.status_code == 409
    pairing = client.post(
        "/api/v1/whatsapp/pairing-code",
        json={"phone": "+14155550100", "number_id": number["id"]},
        headers=admin.headers,
    )
    assert pairing.status_code == 409
    assert "linked-device" in pairing.json()["error"]["message"]


def test_a_pairing_code_needs_a_valid_phone_and_an_own_number(client: TestClient, factory: Factory) -> None:
    admin, outsider = factory.tenant(), factory.tenant()
    number = sender(client, admin)
    bad = client.post("/api/v1/whatsapp/pairing-code", json={"phone": "12"}, headers=admin.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"].endswith("phone")
    foreign = client.post(
        "/api/v1/whatsapp/pairing-code", json={"phone": "+14155550100", "number_id": number["id"]},
        headers=outsider.headers,
    )  # fmt: skip
    assert foreign.status_code == 404
