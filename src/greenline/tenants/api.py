"""The seed's tenant endpoints: CRUD (superadmin) and tenant members."""

from __future__ import annotations

from fastapi import APIRouter

from greenline.auth.dependencies import PrincipalDep, SuperAdmin, principal_in_tenant
from greenline.core.deps import SessionDep
from greenline.core.errors import Forbidden, NotFound, responses
from greenline.core.permissions import Permission
from greenline.core.types import IdPath, TenantIdPath
from greenline.models import Tenant, TenantUser, User
from greenline.tenants import plans, service
from greenline.tenants.plans import PlanOut
from greenline.tenants.schemas import (
    TenantCreate,
    TenantOut,
    TenantUpdate,
    TenantUserAdd,
    TenantUserOut,
)

router = APIRouter(prefix="/tenants", tags=["tenants"])


def _member_out(user: User, member: TenantUser) -> TenantUserOut:
    return TenantUserOut(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=member.role,
        is_active=user.is_active,
        joined_at=member.created_at,
    )


def _tenant(session: SessionDep, tenant_id: int) -> Tenant:
    tenant = service.get_tenant_unscoped(session, tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


@router.post("/", response_model=TenantOut, status_code=201, responses=responses(401, 403, 409, 422))
def create_tenant(session: SessionDep, _: SuperAdmin, body: TenantCreate) -> Tenant:
    """Create a tenant, optionally with its first admin (platform superadmin)."""
    return service.create_tenant(session, body)


@router.get("/", response_model=list[TenantOut], responses=responses(401))
def list_tenants(session: SessionDep, principal: PrincipalDep) -> list[Tenant]:
    """All tenants for the superadmin; otherwise the caller's own tenants."""
    return service.list_tenants(session, principal)


@router.get("/plans", response_model=list[PlanOut], responses=responses(401))
def list_plans(_: PrincipalDep) -> list[PlanOut]:
    """The plans a tenant can be on, with their monthly quotas (null = unlimited)."""
    return plans.all_plans()


@router.get("/{tenant_id}", response_model=TenantOut, responses=responses(401, 403, 404))
def get_tenant(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath) -> Tenant:
    """One tenant the caller belongs to (any tenant for the superadmin)."""
    principal_in_tenant(session, principal, tenant_id, Permission.tenant_read)
    return _tenant(session, tenant_id)


@router.put("/{tenant_id}", response_model=TenantOut, responses=responses(401, 403, 404, 409, 422))
def update_tenant(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath, body: TenantUpdate) -> Tenant:
    """Update a tenant's profile and settings (tenant admin; plan and billing need the superadmin)."""
    acting = principal_in_tenant(session, principal, tenant_id, Permission.tenant_write)
    return service.update_tenant(session, _tenant(session, tenant_id), body, acting)


@router.delete("/{tenant_id}", status_code=204, responses=responses(401, 403, 404))
def delete_tenant(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath) -> None:
    """Delete a tenant and everything it owns (platform superadmin)."""
    principal_in_tenant(session, principal, tenant_id, Permission.tenant_write)
    if not principal.is_superadmin:
        raise Forbidden("only the platform superadmin deletes tenants")
    service.delete_tenant(session, _tenant(session, tenant_id))


@router.post(
    "/{tenant_id}/users", response_model=TenantUserOut, status_code=201, responses=responses(401, 403, 404, 409, 422)
)
def add_tenant_user(
    session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath, body: TenantUserAdd
) -> TenantUserOut:
    """Add a user to the tenant with a role, creating the account if the email is new."""
    principal_in_tenant(session, principal, tenant_id, Permission.users_write)
    user, member = service.add_tenant_user(session, tenant_id, body)
    return _member_out(user, member)


@router.get("/{tenant_id}/users", response_model=list[TenantUserOut], responses=responses(401, 403, 404))
def list_tenant_users(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath) -> list[TenantUserOut]:
    """Members of the tenant with their roles."""
    principal_in_tenant(session, principal, tenant_id, Permission.users_read)
    return [_member_out(user, member) for user, member in service.list_tenant_users(session, tenant_id)]


@router.get("/{tenant_id}/users/{user_id}", response_model=TenantUserOut, responses=responses(401, 403, 404))
def get_tenant_user(
    session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath, user_id: IdPath
) -> TenantUserOut:
    """One member of the tenant with their role."""
    principal_in_tenant(session, principal, tenant_id, Permission.users_read)
    return _member_out(*service.get_tenant_user(session, tenant_id, user_id))


@router.delete("/{tenant_id}/users/{user_id}", status_code=204, responses=responses(401, 403, 404, 409))
def remove_tenant_user(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath, user_id: IdPath) -> None:
    """Remove a user from the tenant (the account itself stays)."""
    principal_in_tenant(session, principal, tenant_id, Permission.users_write)
    service.remove_tenant_user(session, tenant_id, user_id)
