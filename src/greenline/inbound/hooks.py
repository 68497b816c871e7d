"""Reactions to incoming messages, registered on `message.received` (the pipeline's hook list).

1. Stop keywords opt the number out of the tenant's marketing and send one confirmation.
2. START after an opt-out is the contact's explicit opt-in, recorded with its source.
Later issues add classification, sentiment and lead scoring here.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.orm import Session

from greenline.channels import sending as sending
from greenline.core import events
from greenline.inbound.keywords import DEFAULT_CONFIRMATION, is_stop_message, keyword_set, normalize
from greenline.models import Tenant
from greenline.optouts import service as optouts
from greenline.webhooks import service as webhooks

log = structlog.get_logger(__name__)

START_KEYWORDS = frozenset({"start", "unstop", "subscribe", "volver", "voltar", "reprendre", "start again"})


def _tenant_settings(session: Session, tenant_id: int) -> dict[str, Any]:
    tenant = session.get(Tenant, tenant_id)
    return dict(tenant.settings) if tenant is not None else {}


@events.on("message.received")
def handle_stop_keyword(session: Session, data: dict[str, Any]) -> None:
    text = data.get("text")
    if not text:
        return
    settings = _tenant_settings(session, data["tenant_id"])
    keywords = keyword_set(settings.get("stop_keywords"), replace=bool(settings.get("stop_keywords_replace")))
    if is_stop_message(text, keywords):
        _, created = optouts.opt_out(session, data["phone"], reason=f"Replied {text.strip()[:60]!r}", source="keyword")
        log.info("inbound.opted_out_by_keyword", contact_id=data["contact_id"], new=created)
        if created:
            sending.queue_reply(
                session,
                conversation_id=data["conversation_id"],
                contact_id=data["contact_id"],
                sender_number_id=data["sender_number_id"],
                text=settings.get("opt_out_confirmation") or DEFAULT_CONFIRMATION,
            )
        data["opted_out"] = True
        return
    if normalize(text) in START_KEYWORDS and optouts.is_opted_out_e164(session, data["phone"]):
        optouts.opt_in(session, data["phone"], source="keyword:START", note=None, actor_user_id=None)
        log.info("inbound.opted_in_by_keyword", contact_id=data["contact_id"])


@events.on("message.received")
def forward_to_tenant_webhooks(session: Session, data: dict[str, Any]) -> None:
    """Tell the tenant's webhook endpoints (runs after the keyword hooks, so it knows about opt-outs)."""
    payload = {k: data.get(k) for k in ("contact_id", "phone", "conversation_id", "message_id", "text", "kind",
                                        "received_at", "sender_number_id")}  # fmt: skip
    webhooks.emit(session, "message.received", payload)
    if data.get("opted_out"):
        webhooks.emit(session, "contact.opted_out", {"phone": data.get("phone"), "contact_id": data.get("contact_id"),
                                                     "source": "keyword"})  # fmt: skip
