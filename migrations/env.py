"""Alembic environment: migrations run as the table owner, never as the app role."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import greenline.models  # noqa: F401 - registers every table on the metadata
from greenline.config import get_settings
from greenline.core.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    override = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if override:
        return str(override)
    settings = get_settings()
    return settings.migrations_database_url or settings.database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(get_settings(), _url(), app_role=False)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # Batch migrations rebuild tables; with foreign keys on, dropping the old copy of a
            # referenced table would cascade-delete the rows that point at it.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `greenline migrate`")
run_migrations_online()
