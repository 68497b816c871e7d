"""Merge policies against existing contacts, and opt-outs that no import can undo."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from greenline.core.runtime import Runtime
from greenline.models import ConsentEvent, Contact, Unsubscriber
from greenline.models.enums import ContactStatus, Priority
from tests.factories import Factory
from tests.imports.helpers import contacts, run_import
from tests.imports.messy import to_csv

MAPPING = {"phone": "phone", "name": "name", "email": "email", "tags": "tags", "city": "custom.city"}
HEADER = ["phone", "name", "email", "tags", "city"]


def seed(runtime: Runtime, tenant_id: int | None, *objects: Any) -> None:
    assert tenant_id is not None
    with runtime.task_session(tenant_id) as session:
        session.add_all(objects)


def existing() -> list[Contact]:
    return [
        Contact(
            phone="+14155550101",
            name="Alice",
            email="alice@old.test",
            tags=["vip"],
            custom_data={"city": "Boston"},
            priority=Priority.high,
            source="manual",
        ),
        Contact(phone="+14155550102", name="Bob", tags=["lead"], source="manual"),
        Contact(phone="+14155550103", name="Carol", tags=["VIP", "lead"], custom_data={"city": "Austin"}),
    ]


FILE = [
    HEADER,
    ["+1 415 555 0101", "Alice Cooper", "", "vip, newsletter", "Chicago"],
    ["(415) 555-0102", "", "bob@new.test", "", ""],
    ["4155550103", "Carol", "", "vip", "Austin"],
    ["+1 415 555 0104", "Dan", "", "new", ""],
]

EXPECTED = {
    "skip": (
        (1, 0, 3),
        {
            "+14155550101": ("Alice", "alice@old.test", ["vip"], {"city": "Boston"}),
            "+14155550102": ("Bob", None, ["lead"], {}),
            "+14155550103": ("Carol", None, ["VIP", "lead"], {"city": "Austin"}),
        },
    ),
    "update": (
        (1, 2, 1),
        {
            "+14155550101": ("Alice Cooper", "alice@old.test", ["vip", "newsletter"], {"city": "Chicago"}),
            "+14155550102": ("Bob", "bob@new.test", ["lead"], {}),
            "+14155550103": ("Carol", None, ["VIP", "lead"], {"city": "Austin"}),
        },
    ),
    "merge_tags": (
        (1, 1, 2),
        {
            "+14155550101": ("Alice", "alice@old.test", ["vip", "newsletter"], {"city": "Boston"}),
            "+14155550102": ("Bob", None, ["lead"], {}),
            "+14155550103": ("Carol", None, ["VIP", "lead"], {"city": "Austin"}),
        },
    ),
}


@pytest.mark.parametrize("policy", ["skip", "update", "merge_tags"])
def test_merge_policy_against_existing_contacts(client: TestClient, factory: Factory, policy: str) -> None:
    admin = factory.tenant()
    seed(factory.runtime, admin.tenant_id, *existing())
    counts, expected = EXPECTED[policy]

    done = run_import(client, admin, to_csv(FILE).encode(), mapping=MAPPING, policy=policy)

    assert done["status"] == "completed", done
    assert done["policy"] == policy
    assert (done["created_count"], done["updated_count"], done["skipped_count"]) == counts
    assert done["duplicate_rows"] == 0
    stored = {c.phone: c for c in contacts(factory.runtime, admin.tenant_id)}
    for phone, (name, email, tags, custom) in expected.items():
        contact = stored[phone]
        assert (contact.name, contact.email, contact.tags, contact.custom_data) == (name, email, tags, custom), phone
    alice = stored["+14155550101"]
    assert (alice.priority, alice.source) == (Priority.high, "manual")  # not in the file: untouched
    dan = stored["+14155550104"]
    assert (dan.name, dan.tags, dan.source, dan.status) == ("Dan", ["new"], "import", ContactStatus.active)


def test_default_tags_merge_into_every_row(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seed(factory.runtime, admin.tenant_id, *existing())

    done = run_import(
        client, admin, to_csv(FILE).encode(), mapping=MAPPING, policy="merge_tags", default_tags=["Expo 2026"]
    )

    assert (done["created_count"], done["updated_count"], done["skipped_count"]) == (1, 3, 0)
    tags = {c.phone: c.tags for c in contacts(factory.runtime, admin.tenant_id)}
    assert tags["+14155550102"] == ["lead", "Expo 2026"]
    assert tags["+14155550104"] == ["Expo 2026", "new"]


def test_import_never_resubscribes_an_opted_out_number(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seed(
        factory.runtime,
        admin.tenant_id,
        Contact(phone="+14155550111", name="Opted", status=ContactStatus.unsubscribed),
        Contact(phone="+14155550113", name="Out of sync"),  # opted out, but the contact row still says active
        Unsubscriber(phone="+14155550111", source="keyword", reason="STOP"),
        Unsubscriber(phone="+14155550112", source="keyword", reason="STOP"),
        Unsubscriber(phone="+14155550113", source="manual", reason=None),
    )
    rows = [
        ["phone", "name"],
        ["+1 415 555 0111", "Opted Again"],
        ["+1 415 555 0112", "New But Opted Out"],
        ["+1 415 555 0113", "Out Of Sync"],
        ["+1 415 555 0114", "Fresh"],
    ]

    done = run_import(
        client,
        admin,
        to_csv(rows).encode(),
        mapping={"phone": "phone", "name": "name"},
        policy="update",
        opt_in_source="signup-form",
    )

    assert (done["created_count"], done["updated_count"], done["skipped_count"]) == (2, 2, 0)
    stored = {c.phone: c for c in contacts(factory.runtime, admin.tenant_id)}
    assert stored["+14155550111"].status == ContactStatus.unsubscribed
    assert stored["+14155550111"].name == "Opted Again"
    assert stored["+14155550112"].status == ContactStatus.unsubscribed
    assert stored["+14155550112"].opt_in_source is None
    assert stored["+14155550113"].status == ContactStatus.unsubscribed
    fresh = stored["+14155550114"]
    assert (fresh.status, fresh.opt_in_source) == (ContactStatus.active, "signup-form")
    assert fresh.opt_in_at is not None
    with factory.runtime.db.session(admin.tenant_id) as session:
        assert session.scalar(select(func.count()).select_from(Unsubscriber)) == 3
        events = session.execute(select(ConsentEvent.phone, ConsentEvent.kind, ConsentEvent.source)).all()
    assert [tuple(e) for e in events] == [("+14155550114", "opt_in", "signup-form")]


def test_skip_policy_leaves_opted_out_contacts_alone(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    seed(
        factory.runtime,
        admin.tenant_id,
        Contact(phone="+14155550111", name="Opted", status=ContactStatus.unsubscribed),
        Unsubscriber(phone="+14155550111", source="keyword"),
    )
    done = run_import(client, admin, b"phone,name\n+14155550111,Again\n", mapping={"phone": "phone", "name": "name"})
    assert (done["created_count"], done["updated_count"], done["skipped_count"]) == (0, 0, 1)
    [contact] = contacts(factory.runtime, admin.tenant_id)
    assert (contact.name, contact.status) == ("Opted", ContactStatus.unsubscribed)
