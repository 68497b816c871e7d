"""Status and kind enums shared by models, schemas and services."""

from __future__ import annotations

import enum


class Priority(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    urgent = "urgent"


class ContactStatus(enum.StrEnum):
    active = "active"
    inactive = "inactive"
    blocked = "blocked"
    unsubscribed = "unsubscribed"


class ConsentKind(enum.StrEnum):
    opt_in = "opt_in"
    opt_out = "opt_out"


class ImportStatus(enum.StrEnum):
    uploaded = "uploaded"  # file stored, waiting for the column mapping
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class MergePolicy(enum.StrEnum):
    skip = "skip"  # keep existing contacts as they are
    update = "update"  # overwrite fields given in the file
    merge_tags = "merge_tags"  # only add the file's tags to existing contacts


class ConversationStatus(enum.StrEnum):
    open = "open"
    pending = "pending"
    closed = "closed"
    archived = "archived"


class Direction(enum.StrEnum):
    inbound = "inbound"
    outbound = "outbound"


class MessageStatus(enum.StrEnum):
    pending = "pending"  # created, not yet handed to the dispatcher
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"
    unknown = "unknown"  # left in `sending` by a dead worker; fate unconfirmed
    skipped = "skipped"  # not sent by policy: opted out, frequency cap, campaign stopped
    received = "received"  # inbound


class LeadStatus(enum.StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    proposal = "proposal"
    won = "won"
    lost = "lost"


LEAD_PIPELINE: tuple[LeadStatus, ...] = (
    LeadStatus.new,
    LeadStatus.contacted,
    LeadStatus.qualified,
    LeadStatus.proposal,
    LeadStatus.won,
)
