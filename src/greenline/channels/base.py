"""The one interface every WhatsApp channel implements: simulator, Cloud API, Baileys gateway.

Sends are async (provider latency must not cap throughput: the dispatcher runs many at once).
Provider events are normalised into `StatusUpdate`, `IncomingMessage` and `NumberSignal` records,
so the inbound pipeline is the same whatever the channel.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, Protocol

from greenline.channels.errors import ErrorInfo, classify


class MessageKind(enum.StrEnum):
    text = "text"
    template = "template"
    image = "image"
    document = "document"
    audio = "audio"
    video = "video"
    interactive = "interactive"
    reaction = "reaction"


@dataclass(frozen=True)
class OutboundMessage:
    """What to send, independent of the channel's wire format."""

    to: str  # E.164
    kind: MessageKind = MessageKind.text
    text: str | None = None
    media_url: str | None = None
    media_id: str | None = None
    caption: str | None = None
    filename: str | None = None
    template: dict[str, Any] | None = None  # {"name", "language", "components": [...]}
    interactive: dict[str, Any] | None = None  # Cloud API interactive object
    reaction: dict[str, Any] | None = None  # {"message_id", "emoji"}
    reply_to: str | None = None  # provider message id for a contextual reply
    marketing: bool = False  # subject to opt-outs and per-user marketing caps
    client_ref: str | None = None  # our id, echoed back where the provider supports it


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    accepted_at: dt.datetime
    status: str = "accepted"  # or "held_for_quality_assessment"


class SendError(Exception):
    """A send the provider refused, with the WhatsApp error code that says whether to retry."""

    def __init__(
        self, code: int | str, message: str, *, retry_after: float | None = None, maybe_sent: bool = False
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.info: ErrorInfo = classify(code)
        self.code = self.info.code
        self.message = message
        self.retry_after = retry_after
        # The provider may have accepted the message (no answer after the request went out):
        # never re-send blindly; the message's fate is `unknown` until a status webhook says.
        self.maybe_sent = maybe_sent


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str  # sent / delivered / read / failed
    occurred_at: dt.datetime
    recipient: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    client_ref: str | None = None  # our message id, echoed back (Cloud API `biz_opaque_callback_data`)


@dataclass(frozen=True)
class IncomingMessage:
    provider_message_id: str
    sender: str  # E.164
    received_at: dt.datetime
    kind: str = "text"
    text: str | None = None
    media: dict[str, Any] | None = None
    reply_to: str | None = None
    profile_name: str | None = None


@dataclass(frozen=True)
class NumberSignal:
    """Something about the sender number itself: connection, quality, restriction, opt-out preference."""

    kind: str  # connection / quality / restricted / banned / user_preference / error
    occurred_at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ParsedEvents:
    """Everything one provider payload said, grouped by the provider id of the business number."""

    statuses: dict[str, list[StatusUpdate]] = field(default_factory=dict)
    messages: dict[str, list[IncomingMessage]] = field(default_factory=dict)
    signals: dict[str, list[NumberSignal]] = field(default_factory=dict)

    def add_status(self, number_id: str, update: StatusUpdate) -> None:
        self.statuses.setdefault(number_id, []).append(update)

    def add_message(self, number_id: str, message: IncomingMessage) -> None:
        self.messages.setdefault(number_id, []).append(message)

    def add_signal(self, number_id: str, signal: NumberSignal) -> None:
        self.signals.setdefault(number_id, []).append(signal)

    def number_ids(self) -> set[str]:
        return set(self.statuses) | set(self.messages) | set(self.signals)


@dataclass(frozen=True)
class ConnectionState:
    status: str  # connecting / qr / connected / logged_out / restricted / banned / invalid_credentials
    detail: str | None = None
    qr: str | None = None  # data URL of a QR code for linked-device login
    quality_rating: str | None = None
    messaging_limit: int | None = None


class Channel(Protocol):
    """A way to send and receive WhatsApp messages for one sender number."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Hand one message to the provider; raises SendError with the provider's code."""

    async def check_number(self, phone: str) -> bool | None:
        """Whether the number is on WhatsApp (None when the channel cannot tell)."""

    async def connection(self) -> ConnectionState:
        """The number's connection state as the provider reports it."""

    async def logout(self) -> None:
        """Disconnect the number (linked devices log out; Cloud API numbers just stop sending)."""
