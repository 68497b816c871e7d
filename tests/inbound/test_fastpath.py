"""The lean intake path for Meta's POSTs answers like the documented route: same statuses, same error shape."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.channels.signatures import sign_meta
from greenline.core.runtime import Runtime
from greenline.models import InboundEvent, Message
from tests.factories import Factory
from tests.inbound.helpers import APP_SECRET, cloud_number, eventually, outbound_message, post_signed, status

WEBHOOK = "/api/v1/webhooks/whatsapp"


def _stored(runtime: Runtime) -> list[InboundEvent]:
    with runtime.db.session() as session:
        return list(session.scalars(select(InboundEvent).order_by(InboundEvent.id)))


def test_errors_have_the_api_shape_and_store_nothing(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, _ = wa
    missing = client.post(WEBHOOK, content=b"{}", headers={"Content-Type": "application/json"})
    assert missing.status_code == 401
    assert missing.json() == {
        "error": {"code": "signature_missing", "message": "missing X-Hub-Signature-256", "details": None}
    }
    too_big = client.post(WEBHOOK, content=b"x" * (3 * 1024 * 1024 + 1), headers={"X-Hub-Signature-256": "sha256=0"})
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    garbage = b'{"object": "whatsapp_business_account", "entry": ['
    invalid = client.post(WEBHOOK, content=garbage, headers={"X-Hub-Signature-256": sign_meta(APP_SECRET, garbage)})
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "invalid_json"
    with wa_runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0


def test_the_event_is_stored_as_sent_before_the_answer(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, _ = wa
    payload = status("wamid.fast.1", "delivered", "16505551234")
    response = post_signed(client, payload)
    assert response.status_code == 200
    assert response.text == "EVENT_RECEIVED"
    assert response.headers["content-type"].startswith("text/plain")
    # Acknowledged means committed: the row is there as soon as the answer is.
    [event] = _stored(wa_runtime)
    assert event.payload == payload
    assert event.channel == "cloud"
    # The processor parses it later (the number is unknown here, so it only marks the event processed).
    eventually(lambda: _stored(wa_runtime)[0].processed_at is not None)


def test_non_utf8_json_is_accepted(wa: tuple[TestClient, Factory], wa_runtime: Runtime) -> None:
    client, _ = wa
    payload = status("wamid.fast.2", "read", "16505551234")
    raw = json.dumps(payload).encode("utf-16")
    response = client.post(WEBHOOK, content=raw, headers={"X-Hub-Signature-256": sign_meta(APP_SECRET, raw)})
    assert response.status_code == 200
    assert [e.payload for e in _stored(wa_runtime)] == [payload]


def test_concurrent_webhooks_are_all_stored_once_and_applied(
    wa: tuple[TestClient, Factory], wa_runtime: Runtime
) -> None:
    client, factory = wa
    admin = factory.tenant()
    cloud_number(client, admin)
    ids = [outbound_message(wa_runtime, admin.tenant_id or 0, "+16505551234", f"wamid.burst.{i}") for i in range(40)]
    # 40 statuses, each sent twice: requests in flight together share commits, redeliveries are stored once.
    payloads = [status(f"wamid.burst.{i}", "delivered", "16505551234") for i in range(40)] * 2
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda payload: post_signed(client, payload).status_code, payloads))
    assert answers == [200] * 80
    assert len(_stored(wa_runtime)) == 40

    def delivered() -> bool:
        with wa_runtime.db.session(admin.tenant_id) as session:
            rows = session.scalars(select(Message.status).where(Message.id.in_(ids))).all()
        return sorted(rows) == ["delivered"] * 40

    eventually(delivered)
