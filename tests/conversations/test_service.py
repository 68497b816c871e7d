"""Service-level behaviour: the inbound pipeline's entry points and the pure helpers."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from greenline.conversations.autoreply import auto_reply_text, within_business_hours
from greenline.conversations.messages import get_or_open_conversation, kind_of, record_inbound_message, snippet
from greenline.conversations.schemas import BusinessHours
from greenline.core.errors import NotFound
from greenline.models import Conversation, Message
from greenline.models.enums import ConversationStatus, Direction, MessageStatus
from tests.conversations.helpers import CONVERSATIONS, make_contact, open_conversation, send
from tests.factories import Factory


def test_get_or_open_reuses_the_open_conversation_and_opens_a_new_one_after_close(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.tenant()
    contact_id = make_contact(factory.runtime, admin)
    assert admin.tenant_id is not None
    with factory.runtime.task_session(admin.tenant_id) as session:
        first = get_or_open_conversation(session, contact_id)
        assert get_or_open_conversation(session, contact_id).id == first.id
        first.status = ConversationStatus.pending
        assert get_or_open_conversation(session, contact_id).id == first.id
        first.status = ConversationStatus.closed
        session.flush()
        second = get_or_open_conversation(session, contact_id)
        assert second.id != first.id
        assert second.status == ConversationStatus.open
        with pytest.raises(NotFound):
            get_or_open_conversation(session, 999_999)


def test_record_inbound_message_counts_unread_and_dedupes_provider_ids(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact_id = make_contact(factory.runtime, admin)
    conversation = open_conversation(client, factory.runtime, admin, contact_id=contact_id, status="pending")
    ours = send(client, admin, conversation["id"], body="Our offer")
    assert admin.tenant_id is not None
    with factory.runtime.task_session(admin.tenant_id) as session:
        session.get_one(Message, ours["id"]).provider_message_id = "wamid.OUT1"
        session.flush()
        received_at = dt.datetime.now(dt.UTC)
        message = record_inbound_message(
            session,
            contact_id,
            "Yes please!",
            provider_message_id="wamid.IN1",
            reply_to_provider_id="wamid.OUT1",
            received_at=received_at,
        )
        again = record_inbound_message(session, contact_id, "Yes please!", provider_message_id="wamid.IN1")
        photo = record_inbound_message(
            session, contact_id, None, media_url="https://cdn.example.com/p.png", media_type="image/png"
        )
        assert again.id == message.id
        assert (message.direction, message.status) == (Direction.inbound, MessageStatus.received)
        assert message.conversation_id == conversation["id"]
        assert message.reply_to_id == ours["id"]
        assert message.received_at == received_at
        assert photo.kind == "image"
        stored = session.scalar(select(Conversation).where(Conversation.id == conversation["id"]))
        assert stored is not None
        assert stored.unread_count == 2
        assert stored.status == ConversationStatus.open
        assert stored.last_inbound_at is not None
        assert stored.last_inbound_at >= received_at
        assert stored.last_message_preview == "[image]"

    timeline = client.get(f"{CONVERSATIONS}/{conversation['id']}/history", headers=admin.headers).json()["items"]
    received = [event for event in timeline if event["type"] == "message.received"]
    assert [event["text"] for event in received] == [None, "Yes please!"]
    reopened = next(event for event in timeline if event["type"] == "conversation.status_changed")
    assert (reopened["status"], reopened["previous_status"], reopened["by"]) == ("open", "pending", None)


def test_an_older_inbound_message_does_not_replace_the_latest_preview(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    contact_id = make_contact(factory.runtime, admin)
    assert admin.tenant_id is not None
    with factory.runtime.task_session(admin.tenant_id) as session:
        latest = record_inbound_message(session, contact_id, "latest")
        record_inbound_message(session, contact_id, "late", received_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        conversation = session.get_one(Conversation, latest.conversation_id)
        assert conversation.last_message_preview == "latest"
        assert conversation.unread_count == 2


HOURS = BusinessHours(start="09:00", end="18:00", timezone="America/New_York", days=["mon", "tue", "wed", "thu", "fri"])
NIGHT = BusinessHours(start="22:00", end="06:00", timezone="UTC", days=["fri"])


@pytest.mark.parametrize(
    ("hours", "at", "inside"),
    [
        # Monday 2030-01-07, 14:00 UTC is 09:00 in New York (open), 13:59 UTC is 08:59 (closed).
        (HOURS, dt.datetime(2030, 1, 7, 14, 0, tzinfo=dt.UTC), True),
        (HOURS, dt.datetime(2030, 1, 7, 13, 59, tzinfo=dt.UTC), False),
        (HOURS, dt.datetime(2030, 1, 7, 23, 0, tzinfo=dt.UTC), False),
        (HOURS, dt.datetime(2030, 1, 12, 15, 0, tzinfo=dt.UTC), False),  # Saturday
        (NIGHT, dt.datetime(2030, 1, 11, 23, 0, tzinfo=dt.UTC), True),  # Friday night
        (NIGHT, dt.datetime(2030, 1, 12, 5, 59, tzinfo=dt.UTC), True),  # still Friday's shift
        (NIGHT, dt.datetime(2030, 1, 12, 23, 0, tzinfo=dt.UTC), False),  # Saturday night
        (NIGHT, dt.datetime(2030, 1, 11, 5, 0, tzinfo=dt.UTC), False),  # Thursday's shift: closed
    ],
)
def test_within_business_hours(hours: BusinessHours, at: dt.datetime, inside: bool) -> None:
    assert within_business_hours(hours, at) is inside


def test_auto_reply_text() -> None:
    monday_noon_ny = dt.datetime(2030, 1, 7, 17, 0, tzinfo=dt.UTC)
    sunday = dt.datetime(2030, 1, 6, 17, 0, tzinfo=dt.UTC)
    outside = {
        "enabled": True,
        "message": "Closed now",
        "only_outside_hours": True,
        "business_hours": HOURS.model_dump(),
    }
    assert auto_reply_text(outside, monday_noon_ny) is None
    assert auto_reply_text(outside, sunday) == "Closed now"
    assert auto_reply_text({**outside, "only_outside_hours": False}, monday_noon_ny) == "Closed now"
    assert auto_reply_text({**outside, "enabled": False}, sunday) is None
    assert auto_reply_text({}, sunday) is None
    assert auto_reply_text({"enabled": "garbage"}, sunday) is None


def test_snippet_and_kind() -> None:
    assert snippet("short text", "TEXT") == "short text"
    assert snippet("a" * 100 + "needle", "needle") == "…" + "a" * 60 + "needle"
    assert snippet("no match here", "zzz") == "no match here"
    assert [kind_of(t) for t in (None, "image/png", "video/mp4", "audio/ogg", "application/pdf")] == [
        "text",
        "image",
        "video",
        "audio",
        "document",
    ]
