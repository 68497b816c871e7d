"""Resolve the request's principal once, bind the session to its tenant, check permissions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from greenline.apikeys import service as apikeys
from greenline.core.db import bind_tenant
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import Forbidden, NotFound, Unauthorized
from greenline.core.permissions import (
    API_KEY_SCOPES,
    Permission,
    TenantRole,
    permissions_for,
)
from greenline.core.principal import Principal
from greenline.core.security import decode_access_token
from greenline.models import AuthSession, User
from greenline.tenants import service as tenants

_bearer = HTTPBearer(auto_error=False, description="Access token (JWT) or API key")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Tenant API key")


def _requested_tenant(request: Request) -> int | None:
    raw = request.headers.get("x-tenant-id")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise NotFound("tenant not found", details=[{"field": "X-Tenant-ID", "problem": "not a tenant id"}]) from None
    return value


def get_principal(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key_header)],
) -> Principal:
    """Authenticate by bearer token or API key and bind the session to the acting tenant."""
    raw = api_key or (bearer.credentials if bearer else None)
    if not raw:
        raise Unauthorized()
    requested = _requested_tenant(request)
    if apikeys.looks_like_api_key(raw):
        key = apikeys.authenticate_api_key(session, runtime, raw)
        if requested is not None and requested != key.tenant_id:
            raise NotFound("tenant not found", details=[{"field": "X-Tenant-ID", "problem": "not this key's tenant"}])
        principal = Principal(
            user_id=None,
            tenant_id=key.tenant_id,
            role=None,
            permissions=frozenset(Permission(s) for s in key.scopes if s in API_KEY_SCOPES),
            api_key_id=key.id,
        )
    else:
        principal = _principal_from_token(session, runtime, raw, requested)
    if principal.tenant_id is not None:
        bind_tenant(session, principal.tenant_id)
        request.state.tenant_id = principal.tenant_id
    return principal


def _principal_from_token(session: SessionDep, runtime: RuntimeDep, raw: str, requested: int | None) -> Principal:
    claims = decode_access_token(runtime.settings, raw)
    if claims is None:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    row = session.execute(
        select(User, AuthSession)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(User.id == claims.user_id, AuthSession.id == claims.session_id)
    ).first()
    if row is None:
        raise Unauthorized("invalid or expired token", code="invalid_token")
    user, auth = row
    if auth.revoked_at is not None:
        raise Unauthorized("session has been revoked", code="invalid_token")
    if not user.is_active:
        raise Unauthorized("account is disabled", code="account_disabled")
    tenant_id, role = None, None
    candidate = requested if requested is not None else claims.tenant_id
    if candidate is not None:
        role = tenants.membership_role(session, user.id, candidate)
        if role is None and user.is_superadmin and tenants.get_tenant_unscoped(session, candidate) is not None:
            role = TenantRole.admin
        if role is not None:
            tenant_id = candidate
        elif requested is not None:
            raise NotFound("tenant not found", details=[{"field": "X-Tenant-ID", "problem": "not a tenant of yours"}])
    return Principal(
        user_id=user.id,
        tenant_id=tenant_id,
        role=role,
        permissions=permissions_for(role) if role else frozenset(),
        is_superadmin=user.is_superadmin,
        session_id=auth.id,
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the principal must act in a tenant and hold `permission` there."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.tenant_id is None:
            raise Forbidden("no tenant selected; send X-Tenant-ID", code="no_tenant")
        if not principal.can(permission):
            raise Forbidden(f"missing permission {permission}", details={"permission": str(permission)})
        return principal

    return check


async def require_user(principal: PrincipalDep) -> Principal:
    """The caller must be a logged-in user (not an API key)."""
    if principal.user_id is None:
        raise Forbidden("this endpoint needs a user login, not an API key")
    return principal


async def require_superadmin(principal: PrincipalDep) -> Principal:
    if not principal.is_superadmin:
        raise Forbidden("platform superadmin only")
    return principal


UserPrincipal = Annotated[Principal, Depends(require_user)]
SuperAdmin = Annotated[Principal, Depends(require_superadmin)]


def principal_in_tenant(session: SessionDep, principal: Principal, tenant_id: int, permission: Permission) -> Principal:
    """Act in the tenant named by the path: superadmins anywhere, users where they are members.

    Other tenants answer 404 so their existence is not revealed.
    """
    if principal.is_superadmin:
        if tenants.get_tenant_unscoped(session, tenant_id) is None:
            raise NotFound("tenant not found")
        role: TenantRole | None = TenantRole.admin
    elif principal.is_api_key:
        role = None
        if tenant_id != principal.tenant_id:
            raise NotFound("tenant not found")
    else:
        assert principal.user_id is not None
        role = tenants.membership_role(session, principal.user_id, tenant_id)
        if role is None:
            raise NotFound("tenant not found")
    perms = permissions_for(role) if role else principal.permissions
    if permission not in perms:
        raise Forbidden(f"missing permission {permission}", details={"permission": str(permission)})
    bind_tenant(session, tenant_id)
    return Principal(
        user_id=principal.user_id,
        tenant_id=tenant_id,
        role=role,
        permissions=perms,
        is_superadmin=principal.is_superadmin,
        api_key_id=principal.api_key_id,
        session_id=principal.session_id,
    )
