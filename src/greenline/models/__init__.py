"""All ORM models, imported here so metadata is complete for Alembic and the app."""

from greenline.core.permissions import TenantRole
from greenline.models.apikey import ApiKey
from greenline.models.auth import AuthSession, RefreshToken
from greenline.models.tenant import Tenant, TenantUser
from greenline.models.usage import UsageRecord
from greenline.models.user import User

__all__ = ["ApiKey", "AuthSession", "RefreshToken", "Tenant", "TenantRole", "TenantUser", "UsageRecord", "User"]
