"""The tenant-isolation matrix: every tenant resource, every verb, every kind of outsider.

Each later issue appends its resources to RESOURCES. A resource says how tenant A
creates one object, where it lives, and how to read A's view of it; the matrix
then has tenant B (by admin login and by API key) read, list, update and delete
it, expecting 404 or an empty/foreign-free list, and checks A's view is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Actor, Factory


@dataclass(frozen=True)
class Created:
    """One object of tenant A: its URL, the list it appears in, and its id."""

    item_url: str | None
    list_url: str | None
    id: int
    update_method: str = "PUT"
    update_body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Resource:
    name: str
    create: Callable[[TestClient, Factory, Actor], Created]
    # How B reaches the list: some lists are tenant-scoped by path (B uses A's path),
    # others by the caller's tenant (B lists its own, which must not contain A's object).
    list_for_outsider: Callable[[Actor, Created], str] | None = None
    verbs: tuple[str, ...] = ("read", "list", "update", "delete")
    # A's view of the object, compared before and after B's attempt; defaults to GETs of its URLs.
    view: Callable[[TestClient, Factory, Actor, Created], Any] | None = None


def _api_key(client: TestClient, factory: Factory, a: Actor) -> Created:
    key = factory.api_key(a).extra["key"]
    return Created(
        item_url=f"/api/v1/tenants/{a.tenant_id}/api-keys/{key['id']}",  # type: ignore[index]
        list_url=f"/api/v1/tenants/{a.tenant_id}/api-keys",
        id=key["id"],  # type: ignore[index]
        update_body=None,
    )


def _tenant_user(client: TestClient, factory: Factory, a: Actor) -> Created:
    from greenline.core.permissions import TenantRole

    member = factory.member(a, TenantRole.marketer)
    assert member.user_id is not None
    return Created(
        item_url=f"/api/v1/tenants/{a.tenant_id}/users/{member.user_id}",
        list_url=f"/api/v1/tenants/{a.tenant_id}/users",
        id=member.user_id,
    )


def _user(client: TestClient, factory: Factory, a: Actor) -> Created:
    from greenline.core.permissions import TenantRole

    member = factory.member(a, TenantRole.sales)
    assert member.user_id is not None
    return Created(
        item_url=f"/api/v1/users/{member.user_id}",
        list_url="/api/v1/users/",
        id=member.user_id,
        update_body={"role": "admin", "full_name": "Taken Over"},
    )


def _tenant(client: TestClient, factory: Factory, a: Actor) -> Created:
    assert a.tenant_id is not None
    return Created(
        item_url=f"/api/v1/tenants/{a.tenant_id}",
        list_url="/api/v1/tenants/",
        id=a.tenant_id,
        update_body={"name": "Taken Over"},
    )


def _usage(client: TestClient, factory: Factory, a: Actor) -> Created:
    assert a.tenant_id is not None
    client.get("/api/v1/auth/me", headers=a.headers)
    return Created(item_url=f"/api/v1/tenants/{a.tenant_id}/usage/stats", list_url=None, id=a.tenant_id)


def _usage_view(client: TestClient, factory: Factory, a: Actor, created: Created) -> Any:
    # Read without an API call of A's own, which would itself count as usage.
    import datetime as dt

    from greenline.usage import service

    runtime = factory.runtime
    runtime.meter.push()
    today = dt.datetime.now(dt.UTC).date()
    with runtime.db.session(created.id) as session:
        return service.usage_stats(session, runtime.counters, created.id, today, today).model_dump()


RESOURCES: list[Resource] = [
    Resource("tenant", _tenant, list_for_outsider=lambda b, c: "/api/v1/tenants/"),
    Resource(
        "tenant_user", _tenant_user, list_for_outsider=lambda b, c: c.list_url or "", verbs=("read", "list", "delete")
    ),
    Resource("user", _user, list_for_outsider=lambda b, c: "/api/v1/users/", verbs=("read", "list", "update")),
    Resource("api_key", _api_key, list_for_outsider=lambda b, c: c.list_url or "", verbs=("read", "list", "delete")),
    Resource("usage_stats", _usage, view=_usage_view, verbs=("read",)),
]
