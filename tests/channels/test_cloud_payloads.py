"""Cloud API webhook parsing on Meta's verbatim example payloads (tests/channels/cloud_fixtures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from greenline.channels.base import IncomingMessage, NumberSignal, StatusUpdate
from greenline.channels.cloud_payloads import parse_cloud_webhook_with_warnings
from tests.channels.fake_graph import PHONE_ID, USER, inbound, load_fixture, webhook, with_message


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def parse_clean(payload: Any) -> Any:
    events, warnings = parse_cloud_webhook_with_warnings(payload)
    assert warnings == []
    return events


def test_incoming_textinbound() -> None:
    events = parse_clean(load_fixture("webhook_incoming_text"))

    assert events.messages == {
        PHONE_ID: [
            IncomingMessage(
                provider_message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                sender=USER,
                received_at=at(1749416383),
                kind="text",
                text="Does it come in another color?",
                profile_name="Sheena Nelson",
            )
        ]
    }
    assert events.statuses == {}
    assert events.signals == {}


def test_sent_and_delivered_statuses_with_pricing() -> None:
    sent = parse_clean(load_fixture("webhook_status_sent"))
    delivered = parse_clean(load_fixture("webhook_status_delivered"))

    wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
    assert sent.statuses == {PHONE_ID: [StatusUpdate(wamid, "sent", at(1750030073), USER)]}
    assert delivered.statuses == {PHONE_ID: [StatusUpdate(wamid, "delivered", at(1750030073), USER)]}
    assert delivered.messages == {}  # the usernames `contacts` block is not a message


def test_read_and_played_statuses() -> None:
    statuses = [
        {"id": "wamid.A", "status": "read", "timestamp": "1750030100", "recipient_id": "16505551234"},
        {"id": "wamid.B", "status": "played", "timestamp": "1750030200", "recipient_id": "16505551234"},
    ]
    events = parse_clean(webhook({"statuses": statuses}))

    assert events.statuses[PHONE_ID] == [
        StatusUpdate("wamid.A", "read", at(1750030100), USER),
        StatusUpdate("wamid.B", "read", at(1750030200), USER),
    ]


def test_failed_status_carries_the_error() -> None:
    events = parse_clean(load_fixture("webhook_status_failed"))

    [update] = events.statuses[PHONE_ID]
    assert update == StatusUpdate(
        provider_message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA",
        status="failed",
        occurred_at=at(1751142888),
        recipient=USER,
        error_code=131049,
        error_message="This message was not delivered to maintain healthy ecosystem engagement. — "
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    )


def test_value_level_errors_become_error_signals() -> None:
    events = parse_clean(load_fixture("webhook_errors_130429"))

    [signal] = events.signals[PHONE_ID]
    assert signal.kind == "error"
    assert signal.data == {
        "code": 130429,
        "title": "Rate limit hit",
        "message": "Rate limit hit — Message failed to send because there were too many messages sent from this "
        "phone number in a short period of time",
        "href": "/documentation/business-messaging/whatsapp/support/error-codes",
    }
    assert signal.occurred_at.tzinfo is not None


@pytest.mark.parametrize("value", ["resume", "stop"])
def test_user_preferences_stop_and_resume(value: str) -> None:
    payload = load_fixture("webhook_user_preferences_resume")
    payload["entry"][0]["changes"][0]["value"]["user_preferences"][0]["value"] = value

    events = parse_clean(payload)

    detail = "User requested to resume marketing messages"
    data = {"phone": USER, "value": value, "category": "marketing_messages", "detail": detail}
    assert events.signals == {PHONE_ID: [NumberSignal("user_preference", at(1731705721), data)]}


def test_image_message_keeps_media_and_caption() -> None:
    [message] = parse_clean(with_message(load_fixture("message_image"))).messages[PHONE_ID]

    assert (message.kind, message.text, message.received_at) == ("image", "Taj Mahal", at(1744344496))
    assert message.media == {
        "id": "1003383421387256",
        "mime_type": "image/jpeg",
        "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
        "caption": "Taj Mahal",
        "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...",
    }


def test_button_and_list_replies() -> None:
    [button] = parse_clean(with_message(load_fixture("message_button_reply"))).messages[PHONE_ID]
    [row] = parse_clean(with_message(load_fixture("message_list_reply"))).messages[PHONE_ID]

    assert (button.kind, button.text, button.reply_to) == (
        "interactive",
        "Change",
        "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA",
    )
    assert button.media == {"reply_type": "button_reply", "reply_id": "change-button", "title": "Change"}
    assert row.text == "Priority Mail Express"
    assert row.media == {
        "reply_type": "list_reply",
        "reply_id": "priority_express",
        "title": "Priority Mail Express",
        "description": "Next Day to 2 Days",
    }


@pytest.mark.parametrize(
    ("message", "text", "media", "reply_to"),
    [
        (
            inbound("button", {"text": "Yes", "payload": "yes-1"}),
            "Yes",
            {"reply_type": "button", "reply_id": "yes-1"},
            None,
        ),
        (
            inbound("document", {"id": "9", "mime_type": "application/pdf", "filename": "cv.pdf", "caption": "CV"}),
            "CV",
            {"id": "9", "mime_type": "application/pdf", "filename": "cv.pdf", "caption": "CV"},
            None,
        ),
        (
            inbound("audio", {"id": "7", "mime_type": "audio/ogg", "voice": True}),
            None,
            {"id": "7", "mime_type": "audio/ogg", "voice": True},
            None,
        ),
        (inbound("video", {"id": "8", "mime_type": "video/mp4"}), None, {"id": "8", "mime_type": "video/mp4"}, None),
        (
            inbound("sticker", {"id": "6", "mime_type": "image/webp", "animated": False}),
            None,
            {"id": "6", "mime_type": "image/webp", "animated": False},
            None,
        ),
        (
            inbound("location", {"latitude": 38.9, "longitude": -77.0, "name": "Shop", "address": "1 Main St"}),
            None,
            {"latitude": 38.9, "longitude": -77.0, "name": "Shop", "address": "1 Main St"},
            None,
        ),
        (
            inbound("contacts", None, contacts=[{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1 555"}]}]),
            None,
            {"contacts": [{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1 555"}]}]},
            None,
        ),
        (inbound("reaction", {"message_id": "wamid.OUT", "emoji": "👍"}), "👍", None, "wamid.OUT"),
        (inbound("reaction", {"message_id": "wamid.OUT", "emoji": ""}), None, None, "wamid.OUT"),
        (
            inbound("unsupported", {"type": "edit"}, errors=[{"code": 131051, "title": "Message type unknown"}]),
            None,
            {"errors": [{"code": 131051, "title": "Message type unknown"}], "type": "edit"},
            None,
        ),
        (
            inbound("text", {"body": "Hi from the ad"}, referral={"source_type": "ad", "ctwa_clid": "c1"}),
            "Hi from the ad",
            {"referral": {"source_type": "ad", "ctwa_clid": "c1"}},
            None,
        ),
    ],
    ids=lambda value: value["type"] if isinstance(value, dict) and "type" in value and "from" in value else "",
)
def test_every_documented_message_type(message: dict[str, Any], text: Any, media: Any, reply_to: Any) -> None:
    [parsed] = parse_clean(with_message(message)).messages[PHONE_ID]

    assert parsed.kind == message["type"]
    assert (parsed.text, parsed.media, parsed.reply_to) == (text, media, reply_to)
    assert (parsed.sender, parsed.received_at, parsed.profile_name) == (USER, at(1750000000), "Sheena Nelson")


def test_several_entries_and_changes_are_grouped_by_number() -> None:
    first = load_fixture("webhook_incoming_text")
    second = load_fixture("webhook_status_failed")
    second["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "200"
    first["entry"][0]["changes"].append(load_fixture("webhook_status_sent")["entry"][0]["changes"][0])
    payload = {"object": "whatsapp_business_account", "entry": first["entry"] + second["entry"]}

    events = parse_clean(payload)

    assert events.number_ids() == {PHONE_ID, "200"}
    assert [m.text for m in events.messages[PHONE_ID]] == ["Does it come in another color?"]
    assert [s.status for s in events.statuses[PHONE_ID]] == ["sent"]
    assert [s.status for s in events.statuses["200"]] == ["failed"]


def test_quality_updates_and_the_simulators_restrictions() -> None:
    documented = {
        "entry": [{"id": "102290129340398", "time": 1748454394, "changes": [{"value": {
            "display_phone_number": "15550783881", "event": "THROUGHPUT_UPGRADE", "current_limit": "TIER_UNLIMITED"},
            "field": "phone_number_quality_update"}]}],
        "object": "whatsapp_business_account",
    }  # fmt: skip
    restricted = webhook({"event": "RESTRICTED", "reason": "quality"}, field="phone_number_quality_update")
    banned = webhook({"event": "BANNED"}, field="phone_number_quality_update")

    [upgrade] = parse_clean(documented).signals["+15550783881"]  # no metadata: keyed by the display number
    [restriction] = parse_clean(restricted).signals[PHONE_ID]
    [ban] = parse_clean(banned).signals[PHONE_ID]

    assert (upgrade.kind, upgrade.occurred_at) == ("quality", at(1748454394))
    assert upgrade.data == {
        "display_phone_number": "+15550783881",
        "event": "THROUGHPUT_UPGRADE",
        "current_limit": "TIER_UNLIMITED",
    }
    assert (restriction.kind, restriction.data["reason"]) == ("restricted", "quality")
    assert ban.kind == "banned"


def _quality(event: str, display: str = "15550783881", **extra: str) -> dict[str, Any]:
    """A change shaped like the simulator's: no metadata, like Meta's own quality updates."""
    return {"value": {"display_phone_number": display, "event": event, **extra}, "field": "phone_number_quality_update"}


def test_quality_updates_find_their_number_id_in_the_same_payload() -> None:
    payload = webhook({"statuses": [{"id": "wamid.A", "status": "sent", "timestamp": "1750000000"}]})
    payload["entry"][0]["changes"] += [
        _quality("FLAGGED", max_daily_conversations_per_business="TIER_2K", quality_rating="RED"),
        _quality("UNRESTRICTED", display="+1 555-078-3881"),
    ]

    flagged, unrestricted = parse_clean(payload).signals[PHONE_ID]

    assert flagged.kind == "quality"
    assert flagged.data == {
        "display_phone_number": "+15550783881",
        "event": "FLAGGED",
        "max_daily_conversations_per_business": "TIER_2K",
        "quality_rating": "RED",
        "messaging_limit": 2000,
    }
    assert (unrestricted.kind, unrestricted.data["status"]) == ("connection", "connected")


def test_other_fields_are_ignored_with_a_warning() -> None:
    payload = webhook({"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE"}}, field="account_update")

    events, warnings = parse_cloud_webhook_with_warnings(payload)

    assert events.number_ids() == set()
    assert warnings == ["entry[0].changes[0]: field 'account_update' ignored"]
