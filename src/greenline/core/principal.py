"""Who is making a request: a user acting in a tenant, or a tenant's API key."""

from __future__ import annotations

from dataclasses import dataclass

from greenline.core.permissions import ASSIGNED_ONLY_ROLES, Permission, TenantRole


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    tenant_id: int | None
    role: TenantRole | None
    permissions: frozenset[Permission]
    is_superadmin: bool = False
    api_key_id: int | None = None
    session_id: int | None = None

    @property
    def is_api_key(self) -> bool:
        return self.api_key_id is not None

    @property
    def assigned_only(self) -> bool:
        """Sales users see only the leads and conversations assigned to them."""
        return self.role in ASSIGNED_ONLY_ROLES

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
