"""Login, token refresh, logout and the current principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from greenline.auth import service
from greenline.auth.dependencies import PrincipalDep
from greenline.auth.schemas import (
    LoginJSON,
    LogoutRequest,
    Me,
    Membership,
    RefreshRequest,
    TokenPair,
)
from greenline.core.deps import RuntimeDep, SessionDep, client_ip
from greenline.core.errors import InvalidInput, responses
from greenline.models import User
from greenline.tenants import service as tenants

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenPair, responses=responses(401, 422, 429))
def login(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenPair:
    """Log in with an OAuth2 password form (username is the email). Public."""
    if "@" not in form.username:
        raise InvalidInput("username", "must be the account's email address")
    return service.login(
        session,
        runtime,
        email=form.username,
        password=form.password,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
    )


@router.post("/login-json", response_model=TokenPair, responses=responses(401, 404, 422, 429))
def login_json(request: Request, session: SessionDep, runtime: RuntimeDep, body: LoginJSON) -> TokenPair:
    """Log in with a JSON body. Public."""
    return service.login(
        session,
        runtime,
        email=body.email,
        password=body.password,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        tenant_id=body.tenant_id,
    )


@router.post("/refresh", response_model=TokenPair, responses=responses(401, 404, 422))
def refresh_tokens(session: SessionDep, runtime: RuntimeDep, body: RefreshRequest) -> TokenPair:
    """Exchange a refresh token for a new pair; each refresh token works once. Public."""
    return service.refresh(session, runtime, body.refresh_token, body.tenant_id)


@router.post("/logout", status_code=204, responses=responses(401, 403))
def logout(session: SessionDep, principal: PrincipalDep, body: LogoutRequest | None = None) -> None:
    """Revoke the current session: its access and refresh tokens stop working."""
    if principal.session_id is not None:
        service.logout(session, principal.session_id, body.refresh_token if body else None)


@router.get("/me", response_model=Me, responses=responses(401, 404))
def read_me(session: SessionDep, principal: PrincipalDep) -> Me:
    """The current user (or API key), acting tenant, role, permissions and memberships."""
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    memberships = tenants.memberships(session, user.id) if user else []
    return Me(
        id=user.id if user else None,
        email=user.email if user else None,
        full_name=user.full_name if user else None,
        is_superadmin=principal.is_superadmin,
        tenant_id=principal.tenant_id,
        role=principal.role,
        permissions=sorted(principal.permissions),
        memberships=[
            Membership(tenant_id=t.id, tenant_name=t.name, tenant_slug=t.slug, role=role) for t, role in memberships
        ],
        api_key_id=principal.api_key_id,
    )
