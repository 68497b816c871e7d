"""Tenants and their members."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from greenline.core.db import bind_tenant, unscoped
from greenline.core.errors import Conflict, InvalidInput, NotFound
from greenline.core.permissions import TenantRole
from greenline.core.principal import Principal
from greenline.core.security import hash_password
from greenline.models import Tenant, TenantUser, User
from greenline.tenants.schemas import TenantCreate, TenantUpdate, TenantUserAdd

_SLUG_CLEAN = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    slug = _SLUG_CLEAN.sub("-", name.lower()).strip("-")[:50]
    return slug or "tenant"


def membership_role(session: Session, user_id: int, tenant_id: int) -> TenantRole | None:
    """The role a user holds in a tenant, or None if they are not a member."""
    with unscoped(session):
        role = session.scalar(
            select(TenantUser.role)
            .join(Tenant, Tenant.id == TenantUser.tenant_id)
            .where(TenantUser.user_id == user_id, TenantUser.tenant_id == tenant_id, Tenant.is_active.is_(True))
        )
    return role


def memberships(session: Session, user_id: int) -> list[tuple[Tenant, TenantRole]]:
    with unscoped(session):
        rows = session.execute(
            select(Tenant, TenantUser.role)
            .join(TenantUser, TenantUser.tenant_id == Tenant.id)
            .where(TenantUser.user_id == user_id)
            .order_by(Tenant.id)
        ).all()
    return [(tenant, role) for tenant, role in rows]


def default_tenant_id(session: Session, user_id: int) -> int | None:
    with unscoped(session):
        tenant_id: int | None = session.scalar(
            select(func.min(TenantUser.tenant_id)).where(TenantUser.user_id == user_id)
        )
    return tenant_id


def get_tenant_unscoped(session: Session, tenant_id: int) -> Tenant | None:
    with unscoped(session):
        return session.get(Tenant, tenant_id)


def list_tenants(session: Session, principal: Principal) -> list[Tenant]:
    """Superadmins see every tenant; others see the tenants they belong to."""
    if principal.is_superadmin:
        with unscoped(session):
            return list(session.scalars(select(Tenant).order_by(Tenant.id)))
    if principal.user_id is None:
        tenant = get_tenant_unscoped(session, principal.tenant_id) if principal.tenant_id else None
        return [tenant] if tenant else []
    return [tenant for tenant, _ in memberships(session, principal.user_id)]


def create_tenant(session: Session, data: TenantCreate) -> Tenant:
    slug = data.slug or slugify(data.name)
    with unscoped(session):
        if data.slug is None:
            while session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
                slug = f"{slugify(data.name)[:44]}-{secrets.token_hex(3)}"
        elif session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise Conflict(f"slug '{slug}' is already taken", details=[{"field": "slug", "problem": "taken"}])
        if data.domain and session.scalar(select(Tenant.id).where(Tenant.domain == data.domain)) is not None:
            raise Conflict(
                f"domain '{data.domain}' is already taken", details=[{"field": "domain", "problem": "taken"}]
            )
        tenant = Tenant(
            name=data.name,
            slug=slug,
            domain=data.domain,
            plan=data.plan,
            billing_customer_id=data.billing_customer_id,
            settings=data.settings.model_dump(),
        )
        session.add(tenant)
        session.flush()
    if data.admin is not None:
        bind_tenant(session, tenant.id)
        add_tenant_user(session, tenant.id, data.admin)
    return tenant


def update_tenant(session: Session, tenant: Tenant, data: TenantUpdate, principal: Principal) -> Tenant:
    changes = data.model_dump(exclude_unset=True)
    # Plan and billing are platform decisions; tenant admins edit the rest.
    if not principal.is_superadmin:
        for field in ("plan", "billing_customer_id", "is_active"):
            changes.pop(field, None)
    if "settings" in changes and data.settings is not None:
        changes["settings"] = {**tenant.settings, **data.settings.model_dump(exclude_unset=True)}
    with unscoped(session):
        for unique in ("slug", "domain"):
            value = changes.get(unique)
            if value is not None and session.scalar(
                select(Tenant.id).where(getattr(Tenant, unique) == value, Tenant.id != tenant.id)
            ):
                raise Conflict(f"{unique} '{value}' is already taken", details=[{"field": unique, "problem": "taken"}])
        for key, value in changes.items():
            setattr(tenant, key, value)
        session.flush()
    return tenant


def delete_tenant(session: Session, tenant: Tenant) -> None:
    with unscoped(session):
        session.delete(tenant)
        session.flush()


def add_tenant_user(session: Session, tenant_id: int, data: TenantUserAdd) -> tuple[User, TenantUser]:
    """Add a user to a tenant, creating the account when the email is new."""
    email = data.email.lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        if not data.password:
            raise InvalidInput("password", f"required to create the new user {email}")
        user = User(email=email, full_name=data.full_name, password_hash=hash_password(data.password))
        session.add(user)
        session.flush()
    member = TenantUser(tenant_id=tenant_id, user_id=user.id, role=data.role)
    session.add(member)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{email} is already a member of this tenant") from exc
    return user, member


def list_tenant_users(session: Session, tenant_id: int) -> list[tuple[User, TenantUser]]:
    rows = session.execute(
        select(User, TenantUser)
        .join(TenantUser, TenantUser.user_id == User.id)
        .where(TenantUser.tenant_id == tenant_id)
        .order_by(User.id)
    ).all()
    return [(user, member) for user, member in rows]


def get_tenant_user(session: Session, tenant_id: int, user_id: int) -> tuple[User, TenantUser]:
    row = session.execute(
        select(User, TenantUser)
        .join(TenantUser, TenantUser.user_id == User.id)
        .where(TenantUser.tenant_id == tenant_id, User.id == user_id)
    ).first()
    if row is None:
        raise NotFound("user is not a member of this tenant")
    user, member = row
    return user, member


def remove_tenant_user(session: Session, tenant_id: int, user_id: int) -> None:
    admins = session.scalars(
        select(TenantUser.user_id).where(TenantUser.tenant_id == tenant_id, TenantUser.role == TenantRole.admin)
    ).all()
    if list(admins) == [user_id]:
        raise Conflict("cannot remove the tenant's last admin")
    result = session.execute(delete(TenantUser).where(TenantUser.tenant_id == tenant_id, TenantUser.user_id == user_id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("user is not a member of this tenant")
