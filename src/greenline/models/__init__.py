"""All ORM models, imported here so metadata is complete for Alembic and the app."""

from greenline.core.permissions import TenantRole
from greenline.models.apikey import ApiKey
from greenline.models.auth import AuthSession, RefreshToken
from greenline.models.campaign import (
    Campaign,
    CampaignEnrollment,
    CampaignErrorCount,
    CampaignKind,
    CampaignStat,
    CampaignStatus,
    CampaignStep,
    EnrollmentStatus,
    MessageTemplate,
)
from greenline.models.channel import (
    ChannelType,
    InboundEvent,
    QualityRating,
    SenderNumber,
    SenderStatus,
    UnmatchedStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from greenline.models.contact import (
    ConsentEvent,
    Contact,
    ContactImport,
    ContactImportError,
    PhoneNumber,
    Segment,
    Unsubscriber,
)
from greenline.models.conversation import Conversation, ConversationNote, Message, Reply
from greenline.models.lead import Lead, LeadStatusChange
from greenline.models.tenant import Tenant, TenantUser
from greenline.models.usage import PendingCount, SharedCounter, UsageRecord
from greenline.models.user import User

__all__ = [
    "ApiKey",
    "AuthSession",
    "Campaign",
    "CampaignEnrollment",
    "CampaignErrorCount",
    "CampaignKind",
    "CampaignStat",
    "CampaignStatus",
    "CampaignStep",
    "ChannelType",
    "ConsentEvent",
    "Contact",
    "ContactImport",
    "ContactImportError",
    "Conversation",
    "ConversationNote",
    "EnrollmentStatus",
    "InboundEvent",
    "Lead",
    "LeadStatusChange",
    "Message",
    "MessageTemplate",
    "PendingCount",
    "PhoneNumber",
    "QualityRating",
    "RefreshToken",
    "Reply",
    "Segment",
    "SenderNumber",
    "SenderStatus",
    "SharedCounter",
    "Tenant",
    "TenantRole",
    "TenantUser",
    "UnmatchedStatus",
    "Unsubscriber",
    "UsageRecord",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
