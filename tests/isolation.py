"""The tenant-isolation matrix: every tenant resource, every verb, every kind of outsider.

Each later issue appends its resources to RESOURCES. A resource says how tenant A
creates one object, where it lives, and how to read A's view of it; the matrix
then has tenant B (by admin login and by API key) read, list, update and delete
it, expecting 404 or an empty/foreign-free list, and checks A's view is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Actor, Factory


@dataclass(frozen=True)
class Created:
    """One object of tenant A: its URL, the list it appears in, and its id."""

    item_url: str | None
    list_url: str | None
    id: int
    update_method: str = "PUT"
    update_body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Resource:
    name: str
    create: Callable[[TestClient, Factory, Actor], Created]
    # How B reaches the list: some lists are tenant-scoped by path (B uses A's path),
    # others by the caller's tenant (B lists its own, which must not contain A's object).
    list_for_outsider: Callable[[Actor, Created], str] | None = None
    verbs: tuple[str, ...] = ("read", "list", "update", "delete")
    # A's view of the object, compared before and after B's attempt; defaults to GETs of its URLs.
    view: Callable[[TestClient, Factory, Actor, Created], Any] | None = None


def _api_key(client: TestClient, factory: Factory, a: Actor) -> Created:
    key = factory.api_key(a).extra["key"]
    return Created(
        item_url=f"/api/v1/tenants/{a.tenant_id}/api-keys/{key['id']}",  # type: ignore[index]
        list_url=f"/api/v1/tenants/{a.tenant_id}/api-keys",
        id=key["id"],  # type: ignore[index]
        update_body=None,
    )


def _tenant_user(client: TestClient, factory: Factory, a: Actor) -> Created:
    from greenline.core.permissions import TenantRole

    member = factory.member(a, TenantRole.marketer)
    assert member.user_id is not None
    return Created(
        item_url=f"/api/v1/tenants/{a.tenant_id}/users/{member.user_id}",
        list_url=f"/api/v1/tenants/{a.tenant_id}/users",
        id=member.user_id,
    )


def _user(client: TestClient, factory: Factory, a: Actor) -> Created:
    from greenline.core.permissions import TenantRole

    member = factory.member(a, TenantRole.sales)
    assert member.user_id is not None
    return Created(
        item_url=f"/api/v1/users/{member.user_id}",
        list_url="/api/v1/users/",
        id=member.user_id,
        update_body={"role": "admin", "full_name": "Taken Over"},
    )


def _tenant(client: TestClient, factory: Factory, a: Actor) -> Created:
    assert a.tenant_id is not None
    return Created(
        item_url=f"/api/v1/tenants/{a.tenant_id}",
        list_url="/api/v1/tenants/",
        id=a.tenant_id,
        update_body={"name": "Taken Over"},
    )


def _usage(client: TestClient, factory: Factory, a: Actor) -> Created:
    assert a.tenant_id is not None
    client.get("/api/v1/auth/me", headers=a.headers)
    return Created(item_url=f"/api/v1/tenants/{a.tenant_id}/usage/stats", list_url=None, id=a.tenant_id)


def _usage_view(client: TestClient, factory: Factory, a: Actor, created: Created) -> Any:
    # Read without an API call of A's own, which would itself count as usage.
    import datetime as dt

    from greenline.usage import service

    runtime = factory.runtime
    runtime.meter.push()
    today = dt.datetime.now(dt.UTC).date()
    with runtime.db.session(created.id) as session:
        return service.usage_stats(session, runtime.counters, created.id, today, today).model_dump()


def _conversation(client: TestClient, factory: Factory, a: Actor) -> Created:
    """A conversation of A with a message and a note, so A's view covers all three."""
    from greenline.models import Contact

    assert a.tenant_id is not None
    with factory.runtime.task_session(a.tenant_id) as session:
        contact = Contact(phone="+14155550199", name="A's contact", tags=["vip"])
        session.add(contact)
        session.flush()
        contact_id = contact.id
    response = client.post("/api/v1/conversations/", json={"contact_id": contact_id}, headers=a.headers)
    assert response.status_code == 201, response.text
    conversation_id = response.json()["id"]
    url = f"/api/v1/conversations/{conversation_id}"
    assert client.post(f"{url}/messages", json={"body": "A's secret"}, headers=a.headers).status_code == 201
    assert client.post(f"{url}/notes", json={"body": "A's note"}, headers=a.headers).status_code == 201
    return Created(
        item_url=url,
        list_url="/api/v1/conversations/",
        id=conversation_id,
        update_body={"subject": "Taken over", "status": "closed"},
    )


def _conversation_child(kind: str) -> Callable[[TestClient, Factory, Actor], Created]:
    """A's conversation messages or notes, reached by B only through A's conversation URL."""

    def create(client: TestClient, factory: Factory, a: Actor) -> Created:
        conversation = _conversation(client, factory, a)
        list_url = f"{conversation.item_url}/{kind}"
        items = client.get(list_url, headers=a.headers).json()["items"]
        return Created(item_url=None, list_url=list_url, id=items[0]["id"])

    return create


def _lead(client: TestClient, factory: Factory, a: Actor) -> Created:
    """A lead of A on a contact inserted through A's bound session."""
    from greenline.models import Contact

    assert a.tenant_id is not None
    with factory.runtime.task_session(a.tenant_id) as session:
        contact = Contact(phone="+14155550188", name="A's lead contact")
        session.add(contact)
        session.flush()
        contact_id = contact.id
    body = {"contact_id": contact_id, "title": "A's deal", "score": 90, "value": "500.00", "assigned_to": a.user_id}
    response = client.post("/api/v1/leads/", json=body, headers=a.headers)
    assert response.status_code == 201, response.text
    lead_id = response.json()["id"]
    url = f"/api/v1/leads/{lead_id}"
    assert client.put(f"{url}/status", json={"status": "contacted"}, headers=a.headers).status_code == 200
    return Created(
        item_url=url, list_url="/api/v1/leads/", id=lead_id, update_body={"title": "Taken over", "status": "won"}
    )


def _lead_history(client: TestClient, factory: Factory, a: Actor) -> Created:
    lead = _lead(client, factory, a)
    list_url = f"{lead.item_url}/history"
    items = client.get(list_url, headers=a.headers).json()["items"]
    return Created(item_url=None, list_url=list_url, id=items[0]["id"])


def _contact(client: TestClient, factory: Factory, a: Actor) -> Created:
    """A contact of A with a tag, custom data and a consent event."""
    body = {
        "phone": "+14155550177",
        "name": "A's customer",
        "tags": ["vip"],
        "custom_data": {"plan": "gold"},
        "opt_in_source": "web form",
    }
    response = client.post("/api/v1/contacts/", json=body, headers=a.headers)
    assert response.status_code == 201, response.text
    contact_id = response.json()["id"]
    return Created(
        item_url=f"/api/v1/contacts/{contact_id}",
        list_url="/api/v1/contacts/",
        id=contact_id,
        update_body={"name": "Taken over", "status": "blocked"},
    )


def _contact_consent(client: TestClient, factory: Factory, a: Actor) -> Created:
    contact = _contact(client, factory, a)
    list_url = f"{contact.item_url}/consent"
    items = client.get(list_url, headers=a.headers).json()["items"]
    return Created(item_url=None, list_url=list_url, id=items[0]["id"])


def _segment(client: TestClient, factory: Factory, a: Actor) -> Created:
    _contact(client, factory, a)
    body = {"name": "A's VIPs", "rules": {"field": "tags", "op": "has", "value": "vip"}}
    response = client.post("/api/v1/segments/", json=body, headers=a.headers)
    assert response.status_code == 201, response.text
    segment_id = response.json()["id"]
    return Created(
        item_url=f"/api/v1/segments/{segment_id}",
        list_url="/api/v1/segments/",
        id=segment_id,
        update_body={"name": "Taken over", "rules": {"all": []}},
    )


def _segment_preview(client: TestClient, factory: Factory, a: Actor) -> Created:
    segment = _segment(client, factory, a)
    list_url = f"{segment.item_url}/preview"
    items = client.get(list_url, headers=a.headers).json()["items"]
    return Created(item_url=f"{segment.item_url}/count", list_url=list_url, id=items[0]["id"])


def _unsubscriber(client: TestClient, factory: Factory, a: Actor) -> Created:
    response = client.post(
        "/api/v1/unsubscribers/", json={"phone": "+14155550166", "reason": "STOP"}, headers=a.headers
    )
    assert response.status_code == 201, response.text
    return Created(
        item_url="/api/v1/unsubscribers/+14155550166", list_url="/api/v1/unsubscribers/", id=response.json()["id"]
    )


def _webhook_endpoint(client: TestClient, factory: Factory, a: Actor) -> Created:
    # A closed local port: nothing in the matrix sends to it (no event is emitted).
    body = {"url": "http://127.0.0.1:9/a-hook", "event_types": ["*"], "description": "A's hook"}
    response = client.post("/api/v1/webhooks/", json=body, headers=a.headers)
    assert response.status_code == 201, response.text
    endpoint_id = response.json()["id"]
    return Created(
        item_url=f"/api/v1/webhooks/{endpoint_id}",
        list_url="/api/v1/webhooks/",
        id=endpoint_id,
        update_body={"url": "https://attacker.test/steal", "event_types": ["*"], "is_active": True},
    )


def _webhook_delivery(client: TestClient, factory: Factory, a: Actor) -> Created:
    """A failed delivery in A's log, inserted directly so no background send changes A's view meanwhile."""
    from greenline.models import WebhookDelivery

    endpoint = _webhook_endpoint(client, factory, a)
    with factory.runtime.task_session(a.tenant_id) as session:
        payload = {"id": "e" * 32, "type": "contact.created", "tenant_id": a.tenant_id, "data": {"secret": "A's"}}
        row = WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id="e" * 32,
            event_type="contact.created",
            payload=payload,
            status="failed",
            attempts=11,
            next_attempt_at=None,
        )
        session.add(row)
        session.flush()
        delivery_id = row.id
    return Created(item_url=None, list_url="/api/v1/webhooks/logs", id=delivery_id)


def _contact_import(client: TestClient, factory: Factory, a: Actor) -> Created:
    """A finished import of A with one rejected row (waited for, so A's view is stable)."""
    import time

    files = {"file": ("a.csv", b"phone,name\n+14155550166,A's import\n123,bad\n", "text/csv")}
    response = client.post("/api/v1/contacts/bulk-import", files=files, data={"start": "true"}, headers=a.headers)
    assert response.status_code == 201, response.text
    url = f"/api/v1/contacts/imports/{response.json()['id']}"
    deadline = time.monotonic() + 30
    while client.get(url, headers=a.headers).json()["status"] not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return Created(item_url=url, list_url="/api/v1/contacts/imports/", id=response.json()["id"])


def _contact_import_errors(client: TestClient, factory: Factory, a: Actor) -> Created:
    created = _contact_import(client, factory, a)
    list_url = f"{created.item_url}/errors"
    items = client.get(list_url, headers=a.headers).json()["items"]
    return Created(item_url=None, list_url=list_url, id=items[0]["id"])


def _sender_number(client: TestClient, factory: Factory, a: Actor) -> Created:
    body = {"name": "A's number", "display_number": "+14155550123", "channel": "simulator"}
    response = client.post("/api/v1/whatsapp/numbers", json=body, headers=a.headers)
    assert response.status_code == 201, response.text
    number_id = response.json()["id"]
    return Created(
        item_url=f"/api/v1/whatsapp/numbers/{number_id}",
        list_url="/api/v1/whatsapp/numbers",
        id=number_id,
        update_body={"name": "Taken over", "daily_cap": 1},
    )


def _campaign(client: TestClient, factory: Factory, a: Actor) -> Created:
    body = {"name": "A's drip", "kind": "drip", "steps": [{"body": "Hi {{ first_name }}"}], "audience": {"all": True}}
    response = client.post("/api/v1/campaigns/", json=body, headers=a.headers)
    assert response.status_code == 201, response.text
    campaign_id = response.json()["id"]
    return Created(
        item_url=f"/api/v1/campaigns/{campaign_id}",
        list_url="/api/v1/campaigns/",
        id=campaign_id,
        update_body={"name": "Taken over"},
    )


def _campaign_child(suffix: str, *, drip: bool = False) -> Callable[[TestClient, Factory, Actor], Created]:
    def create(client: TestClient, factory: Factory, a: Actor) -> Created:
        campaign = _campaign(client, factory, a)
        base = f"/api/v1/multi-features/campaigns/{campaign.id}" if drip else f"/api/v1/campaigns/{campaign.id}"
        return Created(item_url=f"{base}/{suffix}", list_url=f"{base}/{suffix}", id=campaign.id)

    return create


def _message_template(client: TestClient, factory: Factory, a: Actor) -> Created:
    response = client.post(
        "/api/v1/campaigns/templates", json={"name": "A's welcome", "body": "Hi {{ first_name }}"}, headers=a.headers
    )
    assert response.status_code == 201, response.text
    template_id = response.json()["id"]
    return Created(
        item_url=f"/api/v1/campaigns/templates/{template_id}",
        list_url="/api/v1/campaigns/templates",
        id=template_id,
        update_body={"body": "Taken over"},
    )


def _contact_campaigns(client: TestClient, factory: Factory, a: Actor) -> Created:
    """A contact of A enrolled in one of A's broadcasts: its campaign history."""
    contact = _contact(client, factory, a)
    number = _sender_number(client, factory, a)
    body = {
        "name": "A's sale",
        "message": "Hi",
        "audience": {"contact_ids": [contact.id]},
        "sender_number_ids": [number.id],
    }
    campaign = client.post("/api/v1/campaigns/", json=body, headers=a.headers)
    assert campaign.status_code == 201, campaign.text
    started = client.post(f"/api/v1/campaigns/{campaign.json()['id']}/start", headers=a.headers)
    assert started.status_code == 200, started.text
    list_url = f"/api/v1/contacts/{contact.id}/campaigns"
    assert client.get(list_url, headers=a.headers).json()["items"], "the contact should be enrolled"
    return Created(item_url=None, list_url=list_url, id=contact.id)


def _contact_campaigns_view(client: TestClient, factory: Factory, a: Actor, created: Created) -> Any:
    """The enrolments A sees (their messages keep moving as the engine sends, so only the stable part)."""
    items = client.get(created.list_url or "", headers=a.headers).json()["items"]
    return [(item["campaign_id"], item["enrollment_id"], item["name"]) for item in items]


RESOURCES: list[Resource] = [
    Resource("tenant", _tenant, list_for_outsider=lambda b, c: "/api/v1/tenants/"),
    Resource(
        "tenant_user", _tenant_user, list_for_outsider=lambda b, c: c.list_url or "", verbs=("read", "list", "delete")
    ),
    Resource("user", _user, list_for_outsider=lambda b, c: "/api/v1/users/", verbs=("read", "list", "update")),
    Resource("api_key", _api_key, list_for_outsider=lambda b, c: c.list_url or "", verbs=("read", "list", "delete")),
    Resource("usage_stats", _usage, view=_usage_view, verbs=("read",)),
    Resource("conversation", _conversation, list_for_outsider=lambda b, c: "/api/v1/conversations/"),
    Resource(
        "conversation_message",
        _conversation_child("messages"),
        list_for_outsider=lambda b, c: c.list_url or "",
        verbs=("list",),
    ),
    Resource(
        "conversation_note",
        _conversation_child("notes"),
        list_for_outsider=lambda b, c: c.list_url or "",
        verbs=("list",),
    ),
    Resource("lead", _lead, list_for_outsider=lambda b, c: "/api/v1/leads/"),
    Resource("lead_history", _lead_history, list_for_outsider=lambda b, c: c.list_url or "", verbs=("list",)),
    Resource("contact", _contact, list_for_outsider=lambda b, c: "/api/v1/contacts/"),
    Resource("contact_consent", _contact_consent, list_for_outsider=lambda b, c: c.list_url or "", verbs=("list",)),
    Resource("segment", _segment, list_for_outsider=lambda b, c: "/api/v1/segments/"),
    Resource(
        "segment_preview", _segment_preview, list_for_outsider=lambda b, c: c.list_url or "", verbs=("read", "list")
    ),
    Resource(
        "unsubscriber", _unsubscriber, list_for_outsider=lambda b, c: "/api/v1/unsubscribers/", verbs=("read", "list")
    ),
    Resource("webhook_endpoint", _webhook_endpoint, list_for_outsider=lambda b, c: "/api/v1/webhooks/"),
    Resource(
        "webhook_delivery", _webhook_delivery, list_for_outsider=lambda b, c: "/api/v1/webhooks/logs", verbs=("list",)
    ),
    Resource(
        "contact_import",
        _contact_import,
        list_for_outsider=lambda b, c: "/api/v1/contacts/imports/",
        verbs=("read", "list"),
    ),
    Resource(
        "contact_import_errors",
        _contact_import_errors,
        list_for_outsider=lambda b, c: c.list_url or "",
        verbs=("list",),
    ),
    Resource("sender_number", _sender_number, list_for_outsider=lambda b, c: "/api/v1/whatsapp/numbers"),
    Resource("campaign", _campaign, list_for_outsider=lambda b, c: "/api/v1/campaigns/"),
    Resource("campaign_stats", _campaign_child("stats"), verbs=("read",)),
    Resource("message_template", _message_template, list_for_outsider=lambda b, c: "/api/v1/campaigns/templates"),
    Resource(
        "drip_steps",
        _campaign_child("steps", drip=True),
        list_for_outsider=lambda b, c: c.list_url or "",
        verbs=("list",),
    ),
    Resource(
        "drip_progress",
        _campaign_child("progress", drip=True),
        list_for_outsider=lambda b, c: c.list_url or "",
        verbs=("list",),
    ),
    Resource("drip_analytics", _campaign_child("analytics", drip=True), verbs=("read",)),
    Resource(
        "contact_campaigns",
        _contact_campaigns,
        list_for_outsider=lambda b, c: c.list_url or "",
        verbs=("list",),
        view=_contact_campaigns_view,
    ),
]
