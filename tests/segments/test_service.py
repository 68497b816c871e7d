"""The rule language (pure validation) and the SQL helpers other domains call."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Connection

from greenline.core.db import unscoped
from greenline.core.runtime import Runtime
from greenline.models import Contact
from greenline.optouts import service as optouts
from greenline.segments import service as segments
from greenline.segments.rules import MAX_DEPTH, RuleError, dump_rules, parse_rules, parse_rules_json
from tests.conftest import BACKEND
from tests.contacts.helpers import seed_contacts, us_phone
from tests.factories import Factory


def _error(raw: Any) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rules(raw)
    return caught.value


def test_depth_and_size_limits() -> None:
    node: dict[str, Any] = {"field": "tags", "op": "has", "value": "x"}
    for _ in range(MAX_DEPTH - 1):
        node = {"all": [node]}
    parse_rules(node)
    assert _error({"not": node}).path == "rules.not.all.0.all.0.all.0.all.0"
    assert "at most 50" in _error({"any": [{"field": "status", "op": "eq", "value": "active"}] * 51}).problem


def test_values_are_normalised() -> None:
    node = parse_rules(
        {
            "all": [
                {"field": "country", "op": "in", "value": ["us", " de "]},
                {"field": "created_at", "op": "before", "value": "2024-03-01"},
                {"field": "phone", "op": "starts_with", "value": "+49 (151)"},
                {"field": "status", "op": "not_in", "value": ["blocked"]},
            ]
        }
    )
    assert dump_rules(node) == {
        "all": [
            {"field": "country", "op": "in", "value": ["US", "DE"]},
            {"field": "created_at", "op": "before", "value": "2024-03-01T00:00:00+00:00"},
            {"field": "phone", "op": "starts_with", "value": "49151"},
            {"field": "status", "op": "not_in", "value": ["blocked"]},
        ]
    }


def test_json_text_is_decoded_safely() -> None:
    with pytest.raises(RuleError, match="not valid JSON"):
        parse_rules_json("[" * 5000 + "]" * 5000)
    with pytest.raises(RuleError, match="longer than"):
        parse_rules_json(" " * 20_001)
    assert parse_rules_json('{"field": "opted_out", "op": "eq", "value": false}')


def test_contact_filter_carries_the_tenant_wall(runtime: Runtime, factory: Factory) -> None:
    a, b = factory.tenant(), factory.tenant()
    assert a.tenant_id is not None
    assert b.tenant_id is not None
    seed_contacts(runtime, a.tenant_id, [{"phone": us_phone(i), "tags": ["vip"]} for i in range(3)])
    seed_contacts(runtime, b.tenant_id, [{"phone": us_phone(i), "tags": ["vip"]} for i in range(5)])
    with runtime.task_session(a.tenant_id) as session:
        optouts.opt_out(session, us_phone(0), reason="STOP", source="whatsapp_keyword")
    with runtime.db.session(a.tenant_id) as session:
        clause = segments.contact_filter(session, {"field": "tags", "op": "has", "value": "vip"})
        # What a campaign's INSERT ... SELECT runs: no ORM filter, only the clause (and RLS on PostgreSQL).
        with unscoped(session):
            rows = session.execute(select(Contact.tenant_id, Contact.phone).where(clause)).all()
            assert {tenant for tenant, _ in rows} == {a.tenant_id}
            assert len(rows) == 3
            sendable = session.scalars(
                select(Contact.phone).where(clause, ~optouts.opted_out_clause(Contact.phone, Contact.tenant_id))
            ).all()
        assert sorted(sendable) == [us_phone(1), us_phone(2)]
        assert optouts.is_opted_out(session, "(415) 555-0000")
        assert not optouts.is_opted_out(session, us_phone(1))


def _captured_count_sql(runtime: Runtime, tenant_id: int) -> tuple[str, Any]:
    """The SQL and parameters the app sends for a tag-rule segment count."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Connection, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            captured.append((statement, parameters))

    event.listen(runtime.db.engine, "before_cursor_execute", capture)
    try:
        with runtime.db.session(tenant_id) as session:
            assert segments.count_rules(session, {"field": "tags", "op": "has", "value": "vip"}) == 30
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", capture)
    return captured[-1]


@pytest.mark.skipif(BACKEND != "postgres", reason="GIN indexes are PostgreSQL's")
def test_tag_count_is_served_by_the_gin_index(runtime: Runtime, factory: Factory, db_url: str) -> None:
    admin = factory.tenant()
    assert admin.tenant_id is not None
    rows = [{"phone": us_phone(i), "tags": ["vip"] if i % 100 == 0 else ["other", f"t{i}"]} for i in range(3000)]
    seed_contacts(runtime, admin.tenant_id, rows)
    statement, params = _captured_count_sql(runtime, admin.tenant_id)
    owner = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            conn.execute(text("ANALYZE contacts"))
            # A few thousand rows fit in a seq scan; ask whether the index *can* serve the query.
            conn.execute(text("SET enable_seqscan = off"))
            # The exact statement the app sent, planned without row-level security: `tags @> '["vip"]'`.
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, params).scalars())
            leakproof = conn.execute(text("SELECT proleakproof FROM pg_proc WHERE proname = 'jsonb_contains'")).scalar()
        assert "ix_contacts_tags_gin" in plan, plan
        if not leakproof:
            pytest.skip("RLS keeps non-LEAKPROOF jsonb_contains away from the GIN index for the app role")
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(admin.tenant_id)})
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            app_plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, params).scalars())
        assert "ix_contacts_tags_gin" in app_plan, app_plan
    finally:
        owner.dispose()
