"""Roles and the one table that decides what each may do."""

from __future__ import annotations

import enum


class TenantRole(enum.StrEnum):
    admin = "admin"
    marketer = "marketer"
    sales = "sales"
    viewer = "viewer"


class Permission(enum.StrEnum):
    tenant_read = "tenant:read"
    tenant_write = "tenant:write"
    users_read = "users:read"
    users_write = "users:write"
    api_keys_manage = "api_keys:manage"
    usage_read = "usage:read"
    contacts_read = "contacts:read"
    contacts_write = "contacts:write"
    campaigns_read = "campaigns:read"
    campaigns_write = "campaigns:write"
    conversations_read = "conversations:read"
    conversations_write = "conversations:write"
    leads_read = "leads:read"
    leads_write = "leads:write"
    whatsapp_read = "whatsapp:read"
    whatsapp_send = "whatsapp:send"
    whatsapp_manage = "whatsapp:manage"
    webhooks_manage = "webhooks:manage"


P = Permission
_READ_ALL = {P.tenant_read, P.contacts_read, P.campaigns_read, P.conversations_read, P.leads_read, P.whatsapp_read}

ROLE_PERMISSIONS: dict[TenantRole, frozenset[Permission]] = {
    TenantRole.admin: frozenset(Permission),
    TenantRole.marketer: frozenset(
        _READ_ALL
        | {P.users_read, P.usage_read, P.contacts_write, P.campaigns_write, P.conversations_write, P.leads_write}
        | {P.whatsapp_send}
    ),
    TenantRole.sales: frozenset(
        {P.tenant_read, P.contacts_read, P.contacts_write, P.conversations_read, P.conversations_write}
        | {P.leads_read, P.leads_write, P.whatsapp_read, P.whatsapp_send}
    ),
    TenantRole.viewer: frozenset(_READ_ALL),
}

# Roles whose reach is limited to records assigned to them (leads, conversations).
ASSIGNED_ONLY_ROLES = frozenset({TenantRole.sales})

# What an API key may be granted: every tenant permission except managing keys and users.
API_KEY_SCOPES = frozenset(Permission) - {P.api_keys_manage, P.users_write, P.tenant_write}


def permissions_for(role: TenantRole) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
