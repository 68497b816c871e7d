"""Cloud API webhook payloads → `ParsedEvents`, robust to every documented shape and to garbage.

Meta batches several entries and changes in one POST, re-delivers for days and changes shapes over time,
so nothing here raises: parts we cannot use are skipped and described in a list of warnings.

Records are grouped by `metadata.phone_number_id`. `phone_number_quality_update` carries no metadata, only
`display_phone_number`: its signals go to the phone_number_id another change of the same payload names for
that display number, else to the display number in E.164 ("+15550783881"); a grouping key starting with "+"
is a display number, not a provider id. Its events become signals of kind "quality" (with `messaging_limit`
when the tier is known), "restricted" / "banned", or "connection" with status "connected" for UNRESTRICTED
(the last three are the simulator's extensions).

`IncomingMessage.media` holds what a message carries besides text: for image/document/audio/video/sticker
the media object (id, mime_type, sha256, caption, filename, url, ...); for location the coordinates; for
contacts the shared cards; for button and interactive replies `reply_id` (button payload or row/button id),
plus `reply_type` and `title`; a Click-to-WhatsApp `referral` is added to any kind. Media captions, button
titles and reaction emojis are also the message's `text` (a reaction with no emoji removes a reaction).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

from greenline.channels.base import IncomingMessage, NumberSignal, ParsedEvents, StatusUpdate

_RANK = {"sent": 1, "failed": 2, "delivered": 3, "read": 4}
_ALIASES = {"played": "read"}  # first playback of a voice message: it has been heard, i.e. read
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
_MEDIA_KEYS = ("id", "mime_type", "sha256", "caption", "filename", "url", "voice", "animated")
_LOCATION_KEYS = ("latitude", "longitude", "name", "address", "url")
_SIGNAL_EVENTS = {"RESTRICTED": "restricted", "BANNED": "banned", "UNRESTRICTED": "connection"}
_PHONE = re.compile(r"\+?([0-9]{6,15})")
_SEPARATORS = re.compile(r"[\s().-]")
_TIERS = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1_000, "TIER_2K": 2_000, "TIER_10K": 10_000, "TIER_100K": 100_000}
ID_LIMIT = 128
ERROR_MESSAGE_LIMIT = 500


def status_rank(status: str) -> int:
    """Order of provider statuses (sent < failed < delivered < read; 0 if unknown): never move a message down.

    `failed` ranks below `delivered` because Meta does not order webhooks: a delivery seen after a failure
    (multi-device users) is the stronger evidence, while a failure after a delivery is stale.
    """
    return _RANK.get(_ALIASES.get(status, status), 0)


def to_e164(raw: object) -> str | None:
    """E.164 ("+16505551234") of a WhatsApp id such as "16505551234"; None when it is not a phone number."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    match = _PHONE.fullmatch(_SEPARATORS.sub("", raw))
    return "+" + match.group(1) if match else None


def tier_limit(tier: object) -> int | None:
    """Unique users per 24 h for a Meta tier name; None when unlimited or unknown, 250 (the floor) while not set."""
    if isinstance(tier, int) and not isinstance(tier, bool):
        return tier
    if tier == "TIER_NOT_SET":
        return 250
    return _TIERS.get(tier) if isinstance(tier, str) else None


def parse_cloud_webhook(payload: Any) -> ParsedEvents:
    """Everything a Cloud API webhook payload says, grouped by business number id."""
    return parse_cloud_webhook_with_warnings(payload)[0]


def parse_cloud_webhook_with_warnings(payload: Any) -> tuple[ParsedEvents, list[str]]:
    """Like `parse_cloud_webhook`, plus one warning per part that was skipped or repaired."""
    parser = _Parser()
    if not isinstance(payload, dict):
        parser.warn("payload", "not a JSON object")
        return parser.events, parser.warnings
    kind = payload.get("object")
    if kind is not None and kind != "whatsapp_business_account":
        parser.warn("payload", f"object {kind!r} is not whatsapp_business_account; ignored")
        return parser.events, parser.warnings
    parser.numbers = _known_numbers(payload)
    for i, entry in parser.items(payload, "entry", "payload"):
        for j, change in parser.items(entry, "changes", f"entry[{i}]"):
            parser.change(f"entry[{i}].changes[{j}]", change, entry)
    return parser.events, parser.warnings


def _known_numbers(payload: dict[str, Any]) -> dict[str, str]:
    """Display number (E.164) → phone_number_id, from the metadata of the payload's changes (unambiguous only)."""
    found: dict[str, set[str]] = {}
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            metadata = value.get("metadata") if isinstance(value, dict) else None
            if not isinstance(value, dict) or not isinstance(metadata, dict):
                continue
            number_id, display = _number_id(value), to_e164(metadata.get("display_phone_number"))
            if number_id and display:
                found.setdefault(display, set()).add(number_id)
    return {display: ids.pop() for display, ids in found.items() if len(ids) == 1}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: object) -> str | None:
    """A provider id that fits our columns (wamids are about 60 characters)."""
    return value if isinstance(value, str) and 0 < len(value) <= ID_LIMIT else None


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None


def _time(value: object) -> dt.datetime | None:
    seconds = _int(value)
    if seconds is None and isinstance(value, str | float) and not isinstance(value, bool):
        try:
            seconds = int(float(value))
        except (ValueError, OverflowError):
            return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC) if seconds is not None and seconds >= 0 else None
    except (OverflowError, OSError, ValueError):
        return None


def _number_id(value: dict[str, Any]) -> str | None:
    metadata = value.get("metadata")
    raw = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    return None


def _describe_error(error: dict[str, Any]) -> tuple[int | None, str | None]:
    data = error.get("error_data")
    details = _text(data.get("details")) if isinstance(data, dict) else None
    parts = [part for part in (_text(error.get("message")) or _text(error.get("title")), details) if part]
    return _int(error.get("code")), " — ".join(dict.fromkeys(parts))[:ERROR_MESSAGE_LIMIT] or None


def _subset(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: source[key] for key in keys if key in source}


class _Parser:
    def __init__(self) -> None:
        self.events = ParsedEvents()
        self.warnings: list[str] = []
        self.received_at = dt.datetime.now(dt.UTC)
        self.numbers: dict[str, str] = {}

    def warn(self, where: str, problem: str) -> None:
        self.warnings.append(f"{where}: {problem}")

    def items(self, container: dict[str, Any], key: str, where: str) -> Iterator[tuple[int, dict[str, Any]]]:
        values = container.get(key)
        if values is None:
            return
        if not isinstance(values, list):
            self.warn(where, f"{key} is not a list")
            return
        for index, item in enumerate(values):
            if isinstance(item, dict):
                yield index, item
            else:
                self.warn(f"{where}.{key}[{index}]", "not an object")

    def time(self, where: str, value: object) -> dt.datetime:
        parsed = _time(value)
        if parsed is None:
            self.warn(where, "missing or malformed timestamp; using the time of receipt")
            return self.received_at
        return parsed

    def change(self, where: str, change: dict[str, Any], entry: dict[str, Any]) -> None:
        field, value = change.get("field"), change.get("value")
        handler = _HANDLERS.get(field) if isinstance(field, str) else None
        if handler is None:
            self.warn(where, f"field {field!r} ignored")
        elif not isinstance(value, dict):
            self.warn(where, "value is not an object")
        else:
            try:
                handler(self, f"{where}.value", value, entry)
            except Exception as exc:  # noqa: BLE001 - one odd change must not lose the rest of the batch
                self.warn(where, f"skipped after {type(exc).__name__}: {exc}")

    def messages_change(self, where: str, value: dict[str, Any], entry: dict[str, Any]) -> None:
        number_id = _number_id(value)
        if number_id is None:
            self.warn(where, "no metadata.phone_number_id; change skipped")
            return
        for i, item in self.items(value, "statuses", where):
            status = self.status(f"{where}.statuses[{i}]", item)
            if status is not None:
                self.events.add_status(number_id, status)
        names = {
            str(contact.get("wa_id")): profile["name"]
            for _, contact in self.items(value, "contacts", where)
            if isinstance(profile := contact.get("profile"), dict) and _text(profile.get("name"))
        }
        for i, item in self.items(value, "messages", where):
            message = self.message(f"{where}.messages[{i}]", item, names)
            if message is not None:
                self.events.add_message(number_id, message)
        occurred_at = _time(entry.get("time")) or self.received_at
        for _, item in self.items(value, "errors", where):
            code, message_text = _describe_error(item)
            data = {"code": code, "message": message_text, "title": _text(item.get("title")), "href": item.get("href")}
            self.events.add_signal(number_id, NumberSignal("error", occurred_at, data))

    def status(self, where: str, item: dict[str, Any]) -> StatusUpdate | None:
        wamid, raw = _id(item.get("id")), _text(item.get("status"))
        status = _ALIASES.get(raw or "", raw)
        if wamid is None or status is None or status not in _RANK:
            self.warn(where, f"status {raw!r} for message {wamid!r} skipped")
            return None
        errors = item.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        code, message = _describe_error(first)
        group = item.get("recipient_type") == "group"
        recipient = to_e164(item.get("recipient_participant_id" if group else "recipient_id"))
        occurred_at = self.time(where, item.get("timestamp"))
        client_ref = _text(item.get("biz_opaque_callback_data"))
        return StatusUpdate(wamid, status, occurred_at, recipient, error_code=code, error_message=message,
                            client_ref=client_ref[:64] if client_ref else None)  # fmt: skip

    def message(self, where: str, item: dict[str, Any], names: dict[str, str]) -> IncomingMessage | None:
        wamid, kind, sender = _id(item.get("id")), _text(item.get("type")), to_e164(item.get("from"))
        if wamid is None or kind is None or sender is None:
            self.warn(where, "message without id, type or a phone number in 'from' skipped")
            return None
        if kind == "system":
            self.warn(where, "system message (e.g. the user changed number) skipped")
            return None
        body = item.get(kind)
        body = body if isinstance(body, dict) else {}
        text, media, reply_to = self.content(where, kind, body, item)
        context = item.get("context")
        if isinstance(context, dict) and _id(context.get("id")):
            reply_to = context["id"]
        if isinstance(item.get("referral"), dict):
            media = {**(media or {}), "referral": item["referral"]}
        name = names.get(str(item.get("from"))) or (next(iter(names.values())) if len(names) == 1 else None)
        received_at = self.time(where, item.get("timestamp"))
        return IncomingMessage(wamid, sender, received_at, kind, text, media, reply_to, name)

    def content(
        self, where: str, kind: str, body: dict[str, Any], item: dict[str, Any]
    ) -> tuple[str | None, dict[str, Any] | None, str | None]:
        """Text, media and reacted-to message id of one message by its type."""
        if kind == "text":
            return _text(body.get("body")), None, None
        if kind in MEDIA_TYPES:
            return _text(body.get("caption")), _subset(body, _MEDIA_KEYS), None
        if kind == "location":
            return None, _subset(body, _LOCATION_KEYS), None
        if kind == "contacts":
            cards = item.get("contacts")
            return None, {"contacts": cards if isinstance(cards, list) else []}, None
        if kind == "button":
            return _text(body.get("text")), {"reply_type": "button", "reply_id": body.get("payload")}, None
        if kind == "interactive":
            reply_type = _text(body.get("type")) or ""
            reply = body.get(reply_type)
            reply = reply if isinstance(reply, dict) else {}
            media = {"reply_type": reply_type, "reply_id": reply.get("id"), **_subset(reply, ("title", "description"))}
            if reply_type not in {"button_reply", "list_reply"}:
                media["reply"] = reply  # e.g. a Flow's nfm_reply with its response_json
            return _text(reply.get("title")), media, None
        if kind == "reaction":
            return _text(body.get("emoji")), None, _id(body.get("message_id"))
        if kind == "unsupported":
            errors = item.get("errors")
            return None, {"errors": errors if isinstance(errors, list) else [], **_subset(body, ("type",))}, None
        self.warn(where, f"unknown message type {kind!r} kept without text")
        return None, body or None, None

    def preferences_change(self, where: str, value: dict[str, Any], entry: dict[str, Any]) -> None:
        number_id = _number_id(value)
        if number_id is None:
            self.warn(where, "no metadata.phone_number_id; change skipped")
            return
        for i, item in self.items(value, "user_preferences", where):
            phone, choice = to_e164(item.get("wa_id")), _text(item.get("value"))
            if phone is None or choice not in {"stop", "resume"}:
                self.warn(f"{where}.user_preferences[{i}]", f"preference {choice!r} for {phone!r} skipped")
                continue
            data = {"phone": phone, "value": choice, "category": _text(item.get("category"))}
            data["detail"] = _text(item.get("detail"))
            occurred_at = self.time(f"{where}.user_preferences[{i}]", item.get("timestamp"))
            self.events.add_signal(number_id, NumberSignal("user_preference", occurred_at, data))

    def quality_change(self, where: str, value: dict[str, Any], entry: dict[str, Any]) -> None:
        display = to_e164(value.get("display_phone_number"))
        key = _number_id(value) or self.numbers.get(display or "") or display
        event = (_text(value.get("event")) or "").upper()
        if key is None or not event:
            self.warn(where, "quality update without an event or a business number skipped")
            return
        data: dict[str, Any] = {k: v for k, v in value.items() if isinstance(v, str | int | float | bool)}
        data.update(event=event, display_phone_number=display)
        limit = tier_limit(value.get("max_daily_conversations_per_business") or value.get("current_limit"))
        if limit is not None:
            data["messaging_limit"] = limit
        kind = _SIGNAL_EVENTS.get(event, "quality")
        if kind == "connection":
            data["status"] = "connected"
        occurred_at = _time(entry.get("time")) or _time(value.get("timestamp")) or self.received_at
        self.events.add_signal(key, NumberSignal(kind, occurred_at, data))


_Handler = Callable[[_Parser, str, dict[str, Any], dict[str, Any]], None]
_HANDLERS: dict[str, _Handler] = {
    "messages": _Parser.messages_change,
    "user_preferences": _Parser.preferences_change,
    "phone_number_quality_update": _Parser.quality_change,
}
