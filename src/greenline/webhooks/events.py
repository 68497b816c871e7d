"""The catalogue of events a tenant can subscribe a webhook endpoint to.

Other domains emit these with `webhooks.service.emit(session, WebhookEventType.x, data)`.
`"*"` subscribes an endpoint to every event, including types added later.
"""

from __future__ import annotations

import enum


class WebhookEventType(enum.StrEnum):
    message_received = "message.received"
    message_status = "message.status"
    contact_created = "contact.created"
    contact_opted_out = "contact.opted_out"
    contact_opted_in = "contact.opted_in"
    conversation_created = "conversation.created"
    lead_status_changed = "lead.status_changed"
    campaign_started = "campaign.started"
    campaign_completed = "campaign.completed"
    campaign_paused = "campaign.paused"
    number_status_changed = "number.status_changed"
    import_completed = "import.completed"


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


ALL_EVENTS = "*"
# Sent only by `POST /webhooks/{id}/test`, to that one endpoint, whatever it subscribes to.
TEST_EVENT = "webhook.test"

EVENT_DESCRIPTIONS: dict[WebhookEventType, str] = {
    WebhookEventType.message_received: "A contact sent a message to one of the tenant's numbers.",
    WebhookEventType.message_status: "An outbound message became sent, delivered, read or failed.",
    WebhookEventType.contact_created: "A contact was created (by hand, API, import or an inbound message).",
    WebhookEventType.contact_opted_out: "A number opted out of marketing messages.",
    WebhookEventType.contact_opted_in: "A number opted back in to marketing messages.",
    WebhookEventType.conversation_created: "A new conversation was opened with a contact.",
    WebhookEventType.lead_status_changed: "A lead moved to another pipeline stage.",
    WebhookEventType.campaign_started: "A campaign started sending.",
    WebhookEventType.campaign_completed: "A campaign finished sending to every recipient.",
    WebhookEventType.campaign_paused: "A campaign was paused (by a user or automatically).",
    WebhookEventType.number_status_changed: "A sender number connected, disconnected, was restricted or banned.",
    WebhookEventType.import_completed: "A contact import finished.",
}

SUBSCRIBABLE: frozenset[str] = frozenset({*WebhookEventType, ALL_EVENTS})


def is_subscribed(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to `event_types` receives `event_type`."""
    return ALL_EVENTS in event_types or event_type in event_types
