"""API keys of a tenant: create (secret shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from greenline.apikeys import service
from greenline.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from greenline.auth.dependencies import PrincipalDep, principal_in_tenant
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import responses
from greenline.core.permissions import Permission
from greenline.core.types import IdPath, TenantIdPath
from greenline.models import ApiKey

router = APIRouter(prefix="/tenants/{tenant_id}/api-keys", tags=["api-keys"])


@router.post("", response_model=ApiKeyCreated, status_code=201, responses=responses(401, 403, 404, 422))
def create_api_key(
    session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, tenant_id: TenantIdPath, body: ApiKeyCreate
) -> ApiKeyCreated:
    """Generate an API key; the response holds the only copy of its secret."""
    acting = principal_in_tenant(session, principal, tenant_id, Permission.api_keys_manage)
    key, raw = service.create_api_key(session, runtime, tenant_id, acting, body)
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(key).model_dump(), "key": raw})


@router.get("", response_model=list[ApiKeyOut], responses=responses(401, 403, 404))
def list_api_keys(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath) -> list[ApiKey]:
    """The tenant's API keys (never their secrets)."""
    principal_in_tenant(session, principal, tenant_id, Permission.api_keys_manage)
    return service.list_api_keys(session)


@router.get("/{key_id}", response_model=ApiKeyOut, responses=responses(401, 403, 404))
def get_api_key(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath, key_id: IdPath) -> ApiKey:
    """One API key of the tenant (never its secret)."""
    principal_in_tenant(session, principal, tenant_id, Permission.api_keys_manage)
    return service.get_api_key(session, key_id)


@router.delete("/{key_id}", status_code=204, responses=responses(401, 403, 404))
def revoke_api_key(session: SessionDep, principal: PrincipalDep, tenant_id: TenantIdPath, key_id: IdPath) -> None:
    """Revoke an API key: it answers 401 from now on."""
    principal_in_tenant(session, principal, tenant_id, Permission.api_keys_manage)
    service.revoke_api_key(session, key_id)
