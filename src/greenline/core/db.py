"""Database engine, sessions, shared column types and the tenant wall.

A session bound to a tenant filters every ORM query on tenant-owned models
automatically and, on PostgreSQL, sets `app.tenant_id` for row-level security
in each transaction. Reaching across tenants needs `unscoped(session)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.types import TypeDecorator

from greenline.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer, "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict[str, Any]: JSONType, list[str]: JSONType}


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TenantMixin:
    """Marks a table as tenant-owned: filtered by tenant-bound sessions and by RLS."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy declared_attr convention
        return mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class CrossTenantWrite(RuntimeError):
    """A tenant-bound session tried to write another tenant's row (a bug, never user input)."""


# --- engines -----------------------------------------------------------------


def make_engine(settings: Settings, url: str | None = None, *, app_role: bool = True) -> Engine:
    """Create an engine for the configured database (SQLite in WAL mode, or PostgreSQL)."""
    url = url or settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine

    engine = create_engine(url, pool_size=settings.db_pool_size, max_overflow=20, pool_pre_ping=True)
    role = settings.db_app_role if app_role else None
    if role:

        @event.listens_for(engine, "connect")
        def _set_role(dbapi_conn: Any, _: Any) -> None:
            # Run as a role that does not own the tables, so RLS policies apply.
            with dbapi_conn.cursor() as cur:
                cur.execute(f'SET ROLE "{role}"')
            dbapi_conn.commit()

    return engine


class Database:
    """The engine and session factory of this process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def session(self, tenant_id: int | None = None) -> Session:
        session = self.sessionmaker()
        session.info["postgres"] = self.is_postgres
        if tenant_id is not None:
            bind_tenant(session, tenant_id)
        return session

    def dispose(self) -> None:
        self.engine.dispose()


# --- the tenant wall -----------------------------------------------------------


def session_tenant(session: Session) -> int | None:
    tenant: int | None = session.info.get("tenant_id")
    return tenant


def _apply_rls_settings(session: Session, conn: Connection) -> None:
    if not session.info.get("postgres"):
        return
    tenant = session.info.get("tenant_id")
    conn.execute(
        text("SELECT set_config('app.tenant_id', :t, true), set_config('app.unscoped', :u, true)"),
        {"t": "" if tenant is None else str(tenant), "u": "on" if session.info.get("unscoped") else "off"},
    )


def _refresh_rls(session: Session) -> None:
    transaction = session.get_transaction()
    # A transaction that failed is about to roll back; touching it would mask the original error.
    if transaction is not None and transaction.is_active and session.info.get("postgres"):
        _apply_rls_settings(session, session.connection())


def bind_tenant(session: Session, tenant_id: int) -> None:
    """Bind the session to one tenant: every later query sees only that tenant's rows."""
    session.info["tenant_id"] = tenant_id
    _refresh_rls(session)


@contextmanager
def unscoped(session: Session) -> Iterator[Session]:
    """Explicit, greppable escape from tenant filtering (platform admin, auth lookups, workers)."""
    previous = session.info.get("unscoped", False)
    session.info["unscoped"] = True
    _refresh_rls(session)
    try:
        yield session
    finally:
        session.info["unscoped"] = previous
        _refresh_rls(session)


@event.listens_for(Session, "after_begin")
def _after_begin(session: Session, _: SessionTransaction, conn: Connection) -> None:
    _apply_rls_settings(session, conn)


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    session = state.session
    if session.info.get("unscoped") or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    tenant = session.info.get("tenant_id")
    if tenant is None:
        # Fail closed: a session that is neither bound nor unscoped sees no tenant rows.
        tenant = -1
    state.statement = state.statement.options(
        with_loader_criteria(TenantMixin, lambda cls: cls.tenant_id == tenant, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, *_: Any) -> None:
    tenant = session.info.get("tenant_id")
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantMixin):
            continue
        current = obj.tenant_id
        if current is None:
            if tenant is None:
                raise CrossTenantWrite(f"{type(obj).__name__} has no tenant and the session is unbound")
            obj.tenant_id = tenant
        elif tenant is not None and current != tenant and not session.info.get("unscoped"):
            raise CrossTenantWrite(f"{type(obj).__name__} belongs to tenant {current}, session to {tenant}")
