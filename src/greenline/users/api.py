"""Users of the acting tenant (tenant admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from greenline.auth.dependencies import require
from greenline.core.deps import SessionDep
from greenline.core.errors import responses
from greenline.core.permissions import Permission
from greenline.core.principal import Principal
from greenline.core.types import IdPath
from greenline.users import service
from greenline.users.schemas import UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

CanReadUsers = Annotated[Principal, Depends(require(Permission.users_read))]
CanWriteUsers = Annotated[Principal, Depends(require(Permission.users_write))]


@router.post("/", response_model=UserOut, status_code=201, responses=responses(401, 403, 409, 422))
def create_user(session: SessionDep, principal: CanWriteUsers, body: UserCreate) -> UserOut:
    """Create a user in the acting tenant with a role."""
    return service.create_user(session, principal, body)


@router.get("/", response_model=list[UserOut], responses=responses(401, 403))
def list_users(
    session: SessionDep,
    _: CanReadUsers,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[UserOut]:
    """Members of the acting tenant."""
    return service.list_users(session, offset=offset, limit=limit)


@router.get("/{user_id}", response_model=UserOut, responses=responses(401, 403, 404))
def get_user(session: SessionDep, _: CanReadUsers, user_id: IdPath) -> UserOut:
    """One member of the acting tenant."""
    return service.get_user(session, user_id)


@router.put("/{user_id}", response_model=UserOut, responses=responses(401, 403, 404, 409, 422))
def update_user(session: SessionDep, principal: CanWriteUsers, user_id: IdPath, body: UserUpdate) -> UserOut:
    """Update a member's profile, password, active flag or role in the acting tenant."""
    return service.update_user(session, principal, user_id, body)
