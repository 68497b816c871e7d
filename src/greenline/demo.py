"""The demo tenant that `make run` seeds, so a first run shows the product in use."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenline.core.db import unscoped, utcnow
from greenline.core.permissions import TenantRole
from greenline.core.runtime import Runtime
from greenline.core.security import hash_password
from greenline.demo_campaigns import seed_campaigns
from greenline.demo_data import seed_crm
from greenline.models import ChannelType, QualityRating, SenderNumber, SenderStatus, Tenant, TenantUser, User
from greenline.tenants.service import slugify


def ensure_superadmin(session: Session, email: str, password: str) -> User:
    """Create the platform superadmin, or make an existing account one (password unchanged)."""
    email = email.lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name="Greenline Admin", password_hash=hash_password(password), is_superadmin=True)
        session.add(user)
    else:
        user.is_superadmin = True
    session.flush()
    return user


def ensure_tenant(session: Session, name: str, admin: User, *, plan: str = "growth") -> Tenant:
    slug = slugify(name)
    with unscoped(session):
        tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            tenant = Tenant(name=name, slug=slug, plan=plan, settings={"default_country": "US", "timezone": "UTC"})
            session.add(tenant)
            session.flush()
        member = session.scalar(
            select(TenantUser).where(TenantUser.tenant_id == tenant.id, TenantUser.user_id == admin.id)
        )
        if member is None:
            session.add(TenantUser(tenant_id=tenant.id, user_id=admin.id, role=TenantRole.admin))
            session.flush()
    return tenant


def seed_demo(runtime: Runtime) -> Tenant:
    """Idempotent: running twice keeps existing data."""
    settings = runtime.settings
    with runtime.task_session() as session:
        admin = ensure_superadmin(session, settings.admin_email, settings.admin_password)
        tenant = ensure_tenant(session, settings.demo_tenant_name, admin)
        admin_id = admin.id
    with runtime.task_session(tenant.id) as session:
        seed_crm(session, tenant.id, admin_id)
        sender_id = ensure_simulated_number(session).id
    seed_campaigns(runtime, tenant.id, admin_id, sender_id)
    return tenant


def ensure_simulated_number(session: Session) -> SenderNumber:
    """The demo tenant's connected, simulated WhatsApp number (its default sender)."""
    sender = session.scalar(select(SenderNumber).where(SenderNumber.channel == ChannelType.simulator))
    if sender is None:
        sender = SenderNumber(
            display_number="+14155550142",
            name="Demo store (simulated)",
            channel=ChannelType.simulator,
            provider_id=f"sim-demo-{secrets.token_hex(6)}",
            status=SenderStatus.connected,
            quality_rating=QualityRating.green,
            messaging_limit=2000,
            is_default=True,
            warmup_started_at=utcnow() - dt.timedelta(days=30),
            # Demo customers are quicker than real ones, so receipts and replies show within seconds,
            # and free-form sends reach any demo contact as from a linked device (no 24-hour window).
            # Real-world timings and the window are the simulator's defaults, covered by its tests.
            settings={
                "simulator": {
                    "enforce_window": False,
                    "read_median_s": 6.0,
                    "read_p99_s": 60.0,
                    "reply_median_s": 8.0,
                    "reply_p99_s": 120.0,
                    "offline_share": 0.02,
                }
            },
        )
        session.add(sender)
        session.flush()
    return sender
