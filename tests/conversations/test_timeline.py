"""The conversation timeline and message search."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.conversations.helpers import CONVERSATIONS, error_field, open_conversation, send, set_message
from tests.factories import Factory


def test_history_lists_status_ticks_notes_and_changes_once(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    conversation = open_conversation(client, factory.runtime, admin)
    url = f"{CONVERSATIONS}/{conversation['id']}"
    first = send(client, admin, conversation["id"], body="first")
    now = dt.datetime.now(dt.UTC)
    set_message(
        factory.runtime,
        admin,
        first["id"],
        status="read",
        sent_at=now,
        delivered_at=now + dt.timedelta(seconds=1),
        read_at=now + dt.timedelta(seconds=2),
    )
    client.post(f"{url}/notes", json={"body": "VIP, be nice"}, headers=admin.headers)
    client.put(url, json={"assigned_to": admin.user_id}, headers=admin.headers)
    failed = send(client, admin, conversation["id"], body="second")
    set_message(factory.runtime, admin, failed["id"], status="failed", failed_at=now, error_code="131026")
    client.put(f"{url}/status", json={"status": "closed"}, headers=admin.headers)
    client.post(f"{url}/notes", json={"body": "closing note"}, headers=admin.headers)

    events = client.get(f"{url}/history", headers=admin.headers).json()
    types = [event["type"] for event in events["items"]]
    assert events["next_cursor"] is None
    assert types.count("note.added") == 2
    assert types[-1] == "conversation.created"
    for kind in ("message.sent", "message.delivered", "message.read", "message.queued", "message.failed"):
        assert kind in types
    failure = next(e for e in events["items"] if e["type"] == "message.failed")
    assert (failure["message_id"], failure["error_code"]) == (failed["id"], "131026")
    change = next(e for e in events["items"] if e["type"] == "conversation.status_changed")
    assert (change["status"], change["previous_status"], change["by"]) == ("closed", "open", admin.user_id)
    assigned = next(e for e in events["items"] if e["type"] == "conversation.assigned")
    assert (assigned["assigned_to"], assigned["previous_assigned_to"]) == (admin.user_id, None)
    stamps = [event["at"] for event in events["items"]]
    assert [dt.datetime.fromisoformat(s) for s in stamps] == sorted(
        (dt.datetime.fromisoformat(s) for s in stamps), reverse=True
    )

    paged: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = client.get(
            f"{url}/history", params={"limit": 1} | ({"cursor": cursor} if cursor else {}), headers=admin.headers
        ).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(map(str, paged)) == sorted(map(str, events["items"]))
    bad = client.get(f"{url}/history", params={"cursor": "WyJ4IiwgMV0"}, headers=admin.headers)
    assert (bad.status_code, error_field(bad)) == (422, "cursor")


def test_search_returns_conversations_with_a_snippet_of_the_newest_match(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    one = open_conversation(client, factory.runtime, admin)
    two = open_conversation(client, factory.runtime, admin)
    quiet = open_conversation(client, factory.runtime, admin)
    send(client, admin, one["id"], body="Old refund request")
    latest = send(client, admin, one["id"], body="x" * 100 + " your REFUND was sent " + "y" * 100)
    send(client, admin, two["id"], body="Refund? 50% off!")
    send(client, admin, quiet["id"], body="nothing to see")

    response = client.get(f"{CONVERSATIONS}/search", params={"q": "refund"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    hits = response.json()["items"]
    assert [hit["conversation"]["id"] for hit in hits] == [two["id"], one["id"]]
    assert hits[1]["message_id"] == latest["id"]
    # 60 characters either side of the match.
    assert hits[1]["snippet"] == "…" + "x" * 54 + " your REFUND was sent " + "y" * 50 + "…"
    assert hits[0]["snippet"] == "Refund? 50% off!"

    first = client.get(f"{CONVERSATIONS}/search", params={"q": "REFUND", "limit": 1}, headers=admin.headers).json()
    second = client.get(
        f"{CONVERSATIONS}/search",
        params={"q": "REFUND", "limit": 1, "cursor": first["next_cursor"]},
        headers=admin.headers,
    ).json()
    assert [h["conversation"]["id"] for h in first["items"] + second["items"]] == [two["id"], one["id"]]
    assert second["next_cursor"] is None
    literal = client.get(f"{CONVERSATIONS}/search", params={"q": "50%"}, headers=admin.headers).json()
    assert [hit["conversation"]["id"] for hit in literal["items"]] == [two["id"]]
    missing = client.get(f"{CONVERSATIONS}/search", headers=admin.headers)
    assert (missing.status_code, error_field(missing)) == (422, "q")
