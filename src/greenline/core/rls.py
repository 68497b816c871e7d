"""PostgreSQL row-level security: the second tenant wall, applied by migrations.

The app connects (or `SET ROLE`s) as a role that does not own the tables, so the
policies below hold even if an ORM filter were forgotten. Each transaction sets
`app.tenant_id` (and `app.unscoped` for explicit cross-tenant work); see core/db.py.
"""

from __future__ import annotations

from alembic import op

from greenline.config import get_settings

_PREDICATE = (
    "current_setting('app.unscoped', true) = 'on' "
    "OR tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"
)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def ensure_app_role() -> None:
    """Create the non-owner application role and grant it data access (idempotent)."""
    role = get_settings().db_app_role
    if not _is_postgres() or not role:
        return
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN;
            END IF;
        END $$;
        """
    )
    op.execute(f'GRANT "{role}" TO CURRENT_USER')
    op.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')


def enable_tenant_rls(*tables: str) -> None:
    if not _is_postgres():
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_PREDICATE}) WITH CHECK ({_PREDICATE})")


def disable_tenant_rls(*tables: str) -> None:
    if not _is_postgres():
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
