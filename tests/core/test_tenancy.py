"""The two tenant walls: automatic ORM filtering everywhere, PostgreSQL RLS beneath it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from greenline.core.db import Base, CrossTenantWrite, bind_tenant, unscoped
from greenline.core.permissions import TenantRole
from greenline.core.runtime import Runtime
from greenline.models import ApiKey, Tenant, TenantUser, User
from tests.conftest import BACKEND


def _two_tenants(runtime: Runtime) -> tuple[int, int]:
    with runtime.task_session() as session, unscoped(session):
        user = User(email="owner@wall.test", password_hash="x")
        a, b = Tenant(name="A", slug="wall-a"), Tenant(name="B", slug="wall-b")
        session.add_all([user, a, b])
        session.flush()
        for tenant in (a, b):
            session.add(TenantUser(tenant_id=tenant.id, user_id=user.id, role=TenantRole.admin))
            session.add(
                ApiKey(tenant_id=tenant.id, name=f"k{tenant.id}", prefix="gl_x", key_hash=f"h{tenant.id}", rate_limit=1)
            )
        session.flush()  # inside unscoped(): RLS would refuse the cross-tenant rows once it ends
        return a.id, b.id


def test_bound_session_sees_only_its_tenant(runtime: Runtime) -> None:
    a, b = _two_tenants(runtime)
    with runtime.db.session(a) as session:
        keys = session.scalars(select(ApiKey)).all()
        assert {k.tenant_id for k in keys} == {a}
        other = session.scalars(select(ApiKey).where(ApiKey.tenant_id == b)).all()
        assert other == []
        # Even a primary-key lookup cannot reach across.
        b_key_id = next(k.id for k in keys) + 1
        assert session.get(ApiKey, b_key_id) is None


def test_unbound_session_fails_closed(runtime: Runtime) -> None:
    _two_tenants(runtime)
    with runtime.db.session() as session:
        assert session.scalars(select(ApiKey)).all() == []
        with unscoped(session):
            assert len(session.scalars(select(ApiKey)).all()) == 2


def test_writing_into_another_tenant_is_refused(runtime: Runtime) -> None:
    a, b = _two_tenants(runtime)
    with runtime.db.session(a) as session:
        session.add(ApiKey(tenant_id=b, name="sneaky", prefix="gl_y", key_hash="sneaky", rate_limit=1))
        with pytest.raises(CrossTenantWrite):
            session.flush()
        session.rollback()
    with runtime.db.session(a) as session:
        key = ApiKey(name="stamped", prefix="gl_z", key_hash="stamped", rate_limit=1)
        session.add(key)
        session.flush()
        assert key.tenant_id == a
        session.rollback()


@pytest.mark.skipif(BACKEND != "postgres", reason="row-level security is PostgreSQL's")
def test_row_level_security_holds_without_the_orm_filter(runtime: Runtime) -> None:
    a, b = _two_tenants(runtime)
    with runtime.db.engine.connect() as conn:
        # The app role is not the owner, so RLS applies; raw SQL sees nothing without a tenant.
        assert conn.execute(text("SELECT current_user")).scalar() == runtime.settings.db_app_role
        assert conn.execute(text("SELECT count(*) FROM api_keys")).scalar() == 0
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a)})
        rows = conn.execute(text("SELECT tenant_id FROM api_keys")).scalars().all()
        assert rows == [a]
        # Inserting a row for another tenant violates the policy's WITH CHECK.
        with pytest.raises(Exception, match="row-level security"):
            conn.execute(
                text(
                    "INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes, rate_limit, created_at)"
                    " VALUES (:b, 'x', 'gl_', 'rls-x', '[]', 1, now())"
                ),
                {"b": b},
            )
        conn.rollback()
    with runtime.db.session() as session:
        bind_tenant(session, b)
        # An ORM query that escapes the filter (unscoped flag off at the SQL level) still meets RLS.
        raw = session.execute(text("SELECT tenant_id FROM api_keys")).scalars().all()
        assert raw == [b]


@pytest.mark.skipif(BACKEND != "postgres", reason="row-level security is PostgreSQL's")
def test_app_role_does_not_own_the_tables(runtime: Runtime) -> None:
    with runtime.db.engine.connect() as conn:
        owners = (
            conn.execute(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        )
        forced = (
            conn.execute(
                text("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity ORDER BY relname")
            )
            .scalars()
            .all()
        )
    assert runtime.settings.db_app_role not in owners
    # Every tenant-owned table carries the policy, including those added by later migrations.
    tenant_tables = {t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.c}
    assert len(tenant_tables) >= 3
    assert tenant_tables <= set(forced)
