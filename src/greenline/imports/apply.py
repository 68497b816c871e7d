"""Stage shaped rows, then apply them to `contacts` in ONE transaction with set-based SQL.

PostgreSQL: rows are COPYed into a TEMP table (ON COMMIT DROP) on the same connection
and transaction as the final INSERT ... SELECT, under the tenant's row-level security;
nothing outside the temp table is written until the end, so a failure or cancel
before the commit leaves no contact behind.

SQLite: rows go into a TEMP table of one held connection (private to it, committed per
batch so no write lock or stale snapshot is held while the file is read); the apply
step then runs in one BEGIN IMMEDIATE transaction.

Apply order: duplicates inside the file are dropped (first row wins), matching
contacts are updated per the merge policy (only when something changes), new
contacts are inserted with ON CONFLICT DO NOTHING, and the rejected rows become the
error report; the import row is marked completed in that same transaction. Counts are
exact: `updated` is the UPDATE's row count, `created` the INSERT's, and every other valid
row (repeats in the file, existing contacts left as they are, a number inserted
concurrently by someone else) is `skipped`.

Merge policies for numbers that already exist:
- skip: the contact is left exactly as it is.
- update: non-empty file values overwrite name, email, source and priority (an empty cell
  never erases data); custom fields are merged key by key; tags are added (ignoring case).
- merge_tags: only the file's tags (and default tags) are added.
Opt-outs are absolute: a new contact whose number is in `unsubscribers` is created
`unsubscribed` (without opt-in data), an updated one becomes `unsubscribed`, and nothing
here ever deletes an opt-out or sets a contact back to `active`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, text
from sqlalchemy.types import BigInteger, String

from greenline.core.db import JSONType, UTCDateTime, utcnow
from greenline.core.runtime import Runtime
from greenline.imports.normalize import Staged
from greenline.models.enums import MergePolicy

COLUMNS = (
    "row_number, phone, name, email, tags, custom, source, priority, country, timezone, language, "
    "error_column, error_value, error_reason"
)


class ImportCancelled(Exception):
    """Cancel was requested before the import committed."""


@dataclass(frozen=True)
class Outcome:
    created: int
    updated: int
    skipped: int
    errors: int
    duplicates: int


@dataclass(frozen=True)
class Finish:
    """What the apply step needs besides the staged rows."""

    import_id: int
    tenant_id: int
    token: dt.datetime
    policy: MergePolicy
    opt_in_source: str | None
    processed: int
    valid: int
    actor: int | None
    detected: dict[str, Any]


class Stage(Protocol):
    def write(self, rows: list[Staged]) -> None: ...

    def apply(self, finish: Finish) -> Outcome: ...


def _create_sql(json_type: str, on_commit: str) -> str:
    return (
        "CREATE TEMP TABLE import_stage (row_number integer NOT NULL, phone text, name text, email text, "
        f"tags {json_type}, custom {json_type}, source text, priority text, country text, timezone text, "
        f"language text, error_column text, error_value text, error_reason text){on_commit}"
    )


def _dialect_sql(postgres: bool, policy: MergePolicy) -> str | None:
    """The UPDATE of existing contacts for a policy (None for `skip`), in the engine's JSON dialect."""
    if policy is MergePolicy.skip:
        return None
    # Tags are compared ignoring case, like the contacts API (lower() folds ASCII only on SQLite).
    if postgres:
        absent = "lower(t.value) NOT IN (SELECT lower(e) FROM jsonb_array_elements_text(c.tags) AS e)"
        new_tags = (
            "c.tags || COALESCE((SELECT jsonb_agg(t.value ORDER BY t.n) FROM jsonb_array_elements_text(s.tags) "
            f"WITH ORDINALITY AS t(value, n) WHERE {absent}), '[]'::jsonb)"
        )
        tags_grow = f"EXISTS (SELECT 1 FROM jsonb_array_elements_text(s.tags) AS t(value) WHERE {absent})"
        new_custom, custom_grows = "c.custom_data || s.custom", "NOT c.custom_data @> s.custom"
    else:
        absent = "lower(t.value) NOT IN (SELECT lower(value) FROM json_each(c.tags))"
        new_tags = (
            "(SELECT json_group_array(value) FROM (SELECT value FROM json_each(c.tags) UNION ALL "
            f"SELECT t.value FROM json_each(s.tags) AS t WHERE {absent}))"
        )
        tags_grow = f"EXISTS (SELECT 1 FROM json_each(s.tags) AS t WHERE {absent})"
        new_custom = "json_patch(c.custom_data, s.custom)"
        custom_grows = (
            "EXISTS (SELECT 1 FROM json_each(s.custom) AS n WHERE NOT EXISTS (SELECT 1 FROM json_each(c.custom_data)"
            " AS o WHERE o.key = n.key AND o.type = n.type AND o.value IS n.value))"
        )
    unsubscribe = "s.unsubscribed AND c.status <> 'unsubscribed'"
    sets = [f"tags = {new_tags}", "status = CASE WHEN s.unsubscribed THEN 'unsubscribed' ELSE c.status END"]
    changed = [tags_grow, unsubscribe]
    if policy is MergePolicy.update:
        for column in ("name", "email", "source", "priority"):
            sets.append(f"{column} = COALESCE(s.{column}, c.{column})")
            changed.append(f"(s.{column} IS NOT NULL AND (c.{column} IS NULL OR c.{column} <> s.{column}))")
        sets.append(f"custom_data = {new_custom}")
        changed.append(custom_grows)
    return (
        f"UPDATE contacts AS c SET {', '.join(sets)}, updated_at = :now FROM import_rows AS s "
        f"WHERE c.tenant_id = :tenant AND c.phone = s.phone AND ({' OR '.join(changed)})"
    )


_INSERT = """
INSERT INTO contacts (tenant_id, phone, name, email, tags, custom_data, priority, source, status, country, timezone,
                      language, opt_in_source, opt_in_at, created_at, updated_at)
SELECT :tenant, s.phone, s.name, s.email, s.tags, s.custom, COALESCE(s.priority, 'medium'),
       COALESCE(s.source, 'import'), CASE WHEN s.unsubscribed THEN 'unsubscribed' ELSE 'active' END,
       s.country, s.timezone, s.language,
       CASE WHEN s.unsubscribed THEN NULL ELSE :opt_in_source END,
       CASE WHEN s.unsubscribed THEN NULL ELSE :opt_in_at END, :now, :now
FROM import_rows AS s WHERE true
ON CONFLICT (tenant_id, phone) DO NOTHING
"""
_ERRORS = """
INSERT INTO contact_import_errors (tenant_id, import_id, row_number, "column", value, reason)
SELECT :tenant, :import_id, row_number, error_column, error_value, error_reason
FROM import_stage WHERE error_reason IS NOT NULL ORDER BY row_number
"""
_CONSENT = """
INSERT INTO consent_events (tenant_id, phone, kind, source, reason, campaign_id, actor_user_id, created_at)
SELECT :tenant, c.phone, 'opt_in', :opt_in_source, NULL, NULL, :actor, :now
FROM contacts AS c
WHERE c.tenant_id = :tenant AND c.created_at = :now AND c.opt_in_source IS NOT NULL
"""
_FINISH = """
UPDATE contact_imports SET status = 'completed', processed_rows = :processed, total_rows = :processed,
       created_count = :created, updated_count = :updated, skipped_count = :skipped, error_count = :errors,
       detected = :detected, error = NULL, finished_at = :now
WHERE id = :import_id AND tenant_id = :tenant AND started_at = :token AND status = 'running' AND NOT cancel_requested
"""
_UNSUBSCRIBED = "EXISTS (SELECT 1 FROM unsubscribers AS u WHERE u.tenant_id = :tenant AND u.phone = s.phone)"
_DEDUPE = {
    True: f"""CREATE TEMP TABLE import_rows ON COMMIT DROP AS
SELECT DISTINCT ON (s.phone) s.*, {_UNSUBSCRIBED} AS unsubscribed
FROM import_stage AS s WHERE s.error_reason IS NULL ORDER BY s.phone, s.row_number""",
    False: f"""CREATE TEMP TABLE import_rows AS
SELECT s.*, {_UNSUBSCRIBED} AS unsubscribed FROM (
  SELECT *, row_number() OVER (PARTITION BY phone ORDER BY row_number) AS rank_in_file FROM import_stage
  WHERE error_reason IS NULL) AS s
WHERE s.rank_in_file = 1""",
}


def _apply(conn: Connection, postgres: bool, finish: Finish) -> Outcome:
    """Every write of the import, in the caller's single transaction."""
    now = utcnow()
    params: dict[str, Any] = {"tenant": finish.tenant_id, "now": now, "import_id": finish.import_id}
    conn.execute(_typed(_DEDUPE[postgres]), params)
    if postgres:
        conn.execute(text("ANALYZE import_rows"))  # temp tables are never auto-analyzed
    distinct = conn.execute(text("SELECT count(*) FROM import_rows")).scalar_one()
    updated = 0
    update_sql = _dialect_sql(postgres, finish.policy)
    if update_sql is not None:
        updated = conn.execute(_typed(update_sql), params).rowcount
    opt_in_at = now if finish.opt_in_source else None
    insert = _typed(_INSERT)
    created = conn.execute(insert, {**params, "opt_in_source": finish.opt_in_source, "opt_in_at": opt_in_at}).rowcount
    if finish.opt_in_source and created:
        # Consent must be provable later: one opt-in event per contact this import created.
        conn.execute(_typed(_CONSENT), {**params, "opt_in_source": finish.opt_in_source, "actor": finish.actor})
    errors = conn.execute(_typed(_ERRORS), params).rowcount
    outcome = Outcome(
        created=created,
        updated=updated,
        skipped=finish.valid - created - updated,
        errors=errors,
        duplicates=finish.valid - distinct,
    )
    values = {
        "processed": finish.processed,
        "created": created,
        "updated": updated,
        "skipped": outcome.skipped,
        "errors": errors,
        "token": finish.token,
        "detected": {**finish.detected, "duplicate_rows": outcome.duplicates},
    }
    done = conn.execute(_typed(_FINISH), {**params, **values})
    if done.rowcount != 1:
        raise ImportCancelled()
    return outcome


def _typed(sql: str) -> Any:
    """Bind parameters with explicit types, so NULLs and timestamps work the same on both engines."""
    statement = text(sql)
    types: dict[str, Any] = {
        "now": UTCDateTime(),
        "token": UTCDateTime(),
        "detected": JSONType,
        "opt_in_at": UTCDateTime(),
        "opt_in_source": String(64),
        "tenant": BigInteger(),
        "actor": BigInteger(),
    }
    present = [bindparam(name, type_=kind) for name, kind in types.items() if f":{name}" in sql]
    return statement.bindparams(*present)


class PostgresStage:
    """COPY into a TEMP table inside the job's one transaction (row-level security applies)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.conn.execute(text(_create_sql("jsonb", " ON COMMIT DROP")))

    def write(self, rows: list[Staged]) -> None:
        driver = self.conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(f"COPY import_stage ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def apply(self, finish: Finish) -> Outcome:
        return _apply(self.conn, True, finish)


class SqliteStage:
    """A TEMP table on one held connection; batches commit (temp only), the apply is one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.import_rows")
        conn.exec_driver_sql("DROP TABLE IF EXISTS temp.import_stage")
        conn.exec_driver_sql(_create_sql("text", ""))
        conn.commit()
        placeholders = ", ".join("?" * 14)
        self.insert = f"INSERT INTO import_stage ({COLUMNS}) VALUES ({placeholders})"

    def write(self, rows: list[Staged]) -> None:
        self.conn.exec_driver_sql(self.insert, rows)
        self.conn.commit()

    def apply(self, finish: Finish) -> Outcome:
        self.conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            outcome = _apply(self.conn, False, finish)
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        return outcome


@contextmanager
def open_stage(runtime: Runtime, tenant_id: int) -> Iterator[Stage]:
    """A staging area for one import; on PostgreSQL it lives in the job's tenant-bound transaction."""
    if runtime.db.is_postgres:
        with runtime.task_session(tenant_id) as session:
            yield PostgresStage(session.connection())
        return
    with runtime.db.engine.connect() as conn:
        try:
            yield SqliteStage(conn)
        finally:
            conn.rollback()
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.import_rows")
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.import_stage")
            conn.commit()
