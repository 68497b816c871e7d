"""Cloud API webhook payloads, built exactly as Meta documents them (facts §2.3-2.6).

The simulator's events reach Greenline through the same parser as real webhooks. Two things are simulator
extensions, both inside `phone_number_quality_update` (whose documented events are FLAGGED / UNFLAGGED when
quality reaches or leaves Low [M-31], UPGRADE / DOWNGRADE for the messaging limit and THROUGHPUT_UPGRADE [M-30]):
the events RESTRICTED, UNRESTRICTED and BANNED, and the `quality_rating` key (Meta only exposes the rating
through the API, so a real parser simply ignores it). `max_daily_conversations_per_business` uses Meta's
tier names (TIER_250 ... TIER_UNLIMITED).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

ERROR_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"
MAX_UPDATES_PER_PAYLOAD = 1000  # Graph API webhooks batch up to 1000 updates (§2.3 [T-30])

# Async failures: (title, message, error_data.details), Meta's wording where published (§2.5, §4).
ASYNC_ERRORS: dict[int, tuple[str, str, str]] = {
    131026: (
        "Message undeliverable",
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone "
        "number; the recipient has not accepted the new Terms of Service; the recipient uses an old WhatsApp version.",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp "
        "from your business.",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp "
        "from your business.",
        "The recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    ),
}

_TIER_NAMES = {250: "TIER_250", 2_000: "TIER_2K", 10_000: "TIER_10K", 100_000: "TIER_100K"}


def tier_name(limit: int | None) -> str:
    """Meta's name for a messaging limit."""
    if limit is None:
        return "TIER_UNLIMITED"
    return _TIER_NAMES.get(limit, f"TIER_{limit}")


def wamid(phone_digits: str, token: int, *, inbound: bool) -> str:
    """A `wamid.` id shaped like Meta's: base64 of the user's number and a hex message key."""
    if inbound:
        key = f"{token:020X}"[-20:].encode()
        body = b"\x15\x02\x00\x12\x18\x14" + key + b"\x00"
    else:
        key = f"{token:018X}"[-18:].encode()
        body = b"\x15\x02\x00\x11\x18\x12" + key + b"\x00"
    number = phone_digits.encode()[:127]
    return "wamid." + base64.b64encode(b"\x1c\x18" + bytes([len(number)]) + number + body).decode()


def reply_wamid(phone_digits: str, answered_id: str) -> str:
    """The id of a simulated reply, derived from the message it answers (no draw, so batching cannot change it)."""
    token = int.from_bytes(hashlib.blake2b(answered_id.encode(), digest_size=10).digest(), "big")
    return wamid(phone_digits, token, inbound=True)


def status(
    message_id: str,
    state: str,
    at: float,
    recipient: str,
    *,
    pricing: dict[str, Any] | None = None,
    error_code: int | None = None,
    callback_data: str | None = None,
) -> dict[str, Any]:
    """One `statuses[]` item (§2.5)."""
    item: dict[str, Any] = {"id": message_id, "status": state, "timestamp": str(int(at)), "recipient_id": recipient}
    if callback_data is not None:
        item["biz_opaque_callback_data"] = callback_data
    if pricing is not None:
        item["pricing"] = dict(pricing)
    if error_code is not None:
        title, message, details = ASYNC_ERRORS[error_code]
        item["errors"] = [
            {
                "code": error_code,
                "title": title,
                "message": message,
                "error_data": {"details": details},
                "href": ERROR_HREF,
            }
        ]
    return item


def pricing(category: str, *, free: bool) -> dict[str, Any]:
    """The `pricing` object: per-message pricing, free inside a service window (§2.5, [M-27])."""
    return {
        "billable": not free,
        "pricing_model": "PMP",
        "type": "free_customer_service" if free else "regular",
        "category": category,
    }


def text_message(
    sender: str, message_id: str, at: float, body: str, *, context_id: str | None, business: str
) -> dict[str, Any]:
    """One inbound `messages[]` item of type text (§2.4); `context` when it quotes our message."""
    item: dict[str, Any] = {"from": sender, "id": message_id, "timestamp": str(int(at)), "type": "text"}
    item["text"] = {"body": body}
    if context_id is not None:
        item["context"] = {"from": business, "id": context_id}
    return item


def contact(wa_id: str, name: str) -> dict[str, Any]:
    """One `contacts[]` item of an inbound message."""
    return {"profile": {"name": name}, "wa_id": wa_id}


def user_preference(wa_id: str, at: float, value: str = "stop") -> dict[str, Any]:
    """One `user_preferences[]` item (§2.6): the user stopped (or resumed) marketing messages."""
    detail = f"User requested to {value} marketing messages"
    return {"wa_id": wa_id, "detail": detail, "category": "marketing_messages", "value": value, "timestamp": int(at)}


def quality_update(display: str, event: str, limit: int | None, rating: str) -> dict[str, Any]:
    """The value of a `phone_number_quality_update` change (§2.6 plus the extensions described above)."""
    return {
        "display_phone_number": display,
        "event": event,
        "max_daily_conversations_per_business": tier_name(limit),
        "quality_rating": rating,
    }


class PayloadBuilder:
    """Collects one number's updates during a scheduler run and cuts them into webhook payloads."""

    def __init__(self, waba_id: str, display: str, number_id: str) -> None:
        self.waba_id = waba_id
        self.metadata = {"display_phone_number": display, "phone_number_id": number_id}
        self.statuses: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.contacts: dict[str, dict[str, Any]] = {}
        self.preferences: list[dict[str, Any]] = []
        self.quality: list[tuple[float, dict[str, Any]]] = []  # (time, phone_number_quality_update value)

    def _value(self, **items: Any) -> dict[str, Any]:
        return {"messaging_product": "whatsapp", "metadata": dict(self.metadata), **items}

    def changes(self) -> list[tuple[int, dict[str, Any]]]:
        """(update count, change) pairs of the `messages` and `user_preferences` fields, in a stable order."""
        out: list[tuple[int, dict[str, Any]]] = []
        for start in range(0, len(self.statuses), MAX_UPDATES_PER_PAYLOAD):
            chunk = self.statuses[start : start + MAX_UPDATES_PER_PAYLOAD]
            out.append((len(chunk), {"value": self._value(statuses=chunk), "field": "messages"}))
        if self.messages:
            value = self._value(contacts=list(self.contacts.values()), messages=self.messages)
            out.append((len(self.messages), {"value": value, "field": "messages"}))
        if self.preferences:
            wa_ids = dict.fromkeys(item["wa_id"] for item in self.preferences)
            value = self._value(contacts=[{"wa_id": w} for w in wa_ids], user_preferences=self.preferences)
            out.append((len(self.preferences), {"value": value, "field": "user_preferences"}))
        return out

    def payloads(self) -> list[dict[str, Any]]:
        """Webhook bodies of at most MAX_UPDATES_PER_PAYLOAD updates each; account updates come one per body.

        Account-level updates carry the entry's `time` (their value has no timestamp of its own).
        """
        bodies: list[list[dict[str, Any]]] = []
        size = MAX_UPDATES_PER_PAYLOAD
        for count, change in self.changes():
            if not bodies or size + count > MAX_UPDATES_PER_PAYLOAD:
                bodies.append([])
                size = 0
            bodies[-1].append(change)
            size += count
        out = [
            {"object": "whatsapp_business_account", "entry": [{"id": self.waba_id, "changes": changes}]}
            for changes in bodies
        ]
        for at, value in self.quality:
            change = {"value": value, "field": "phone_number_quality_update"}
            entry = {"id": self.waba_id, "time": int(at), "changes": [change]}
            out.append({"object": "whatsapp_business_account", "entry": [entry]})
        return out
