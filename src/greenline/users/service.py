"""Users of the acting tenant, managed by its admins."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from greenline.core.db import unscoped
from greenline.core.errors import Conflict, Forbidden, NotFound
from greenline.core.permissions import TenantRole
from greenline.core.principal import Principal
from greenline.core.security import hash_password
from greenline.models import TenantUser, User
from greenline.users.schemas import UserCreate, UserOut, UserUpdate


def _out(user: User, role: TenantRole) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        username=user.username,
        full_name=user.full_name,
        is_active=user.is_active,
        role=role,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def create_user(session: Session, principal: Principal, data: UserCreate) -> UserOut:
    """Create an account and make it a member of the acting tenant."""
    email = data.email.lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(
            f"a user with email {email} already exists; add them with POST /api/v1/tenants/{{id}}/users",
            details=[{"field": "email", "problem": "taken"}],
        )
    user = User(
        email=email, username=data.username, full_name=data.full_name, password_hash=hash_password(data.password)
    )
    session.add(user)
    session.flush()
    session.add(TenantUser(user_id=user.id, role=data.role))
    session.flush()
    return _out(user, data.role)


def list_users(session: Session, *, offset: int, limit: int) -> list[UserOut]:
    rows = session.execute(
        select(User, TenantUser.role)
        .join(TenantUser, TenantUser.user_id == User.id)
        .order_by(User.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [_out(user, role) for user, role in rows]


def get_user(session: Session, user_id: int) -> UserOut:
    row = session.execute(
        select(User, TenantUser.role).join(TenantUser, TenantUser.user_id == User.id).where(User.id == user_id)
    ).first()
    if row is None:
        raise NotFound("user not found")
    user, role = row
    return _out(user, role)


def update_user(session: Session, principal: Principal, user_id: int, data: UserUpdate) -> UserOut:
    """Update a member of the acting tenant; other tenants' users are not found."""
    row = session.execute(
        select(User, TenantUser).join(TenantUser, TenantUser.user_id == User.id).where(User.id == user_id)
    ).first()
    if row is None:
        raise NotFound("user not found")
    user, member = row
    changes = data.model_dump(exclude_unset=True)
    # Accounts shared with other tenants or the platform admin are edited only by themselves.
    with unscoped(session):
        tenants_of_user = session.scalar(
            select(func.count()).select_from(TenantUser).where(TenantUser.user_id == user.id)
        )
    shared = user.is_superadmin or (tenants_of_user or 0) > 1
    if (
        shared
        and user.id != principal.user_id
        and ({"password", "is_active", "full_name", "username"} & changes.keys())
    ):
        raise Forbidden("this account belongs to several tenants; only its role can be changed here")
    if changes.get("role") is not None and changes["role"] != TenantRole.admin and member.role == TenantRole.admin:
        admins = session.scalar(select(func.count()).select_from(TenantUser).where(TenantUser.role == TenantRole.admin))
        if admins == 1:
            raise Conflict("cannot demote the tenant's last admin")
    if data.role is not None:
        member.role = data.role
    if data.password is not None:
        user.password_hash = hash_password(data.password)
    for field in ("full_name", "username", "is_active"):
        if field in changes and changes[field] is not None:
            setattr(user, field, changes[field])
    session.flush()
    return _out(user, member.role)
