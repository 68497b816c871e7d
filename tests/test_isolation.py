"""Tenant B must not see, change or delete anything of tenant A, by login or by API key."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Actor, Factory
from tests.isolation import RESOURCES, Created, Resource

OUTSIDERS = ("admin", "api_key")


def _snapshot(client: TestClient, factory: Factory, resource: Resource, a: Actor, created: Created) -> Any:
    if resource.view is not None:
        return resource.view(client, factory, a, created)
    urls = [u for u in (created.item_url, created.list_url) if u]
    views = []
    for url in urls:
        response = client.get(url, headers=a.headers)
        views.append((url, response.status_code, response.json() if response.status_code == 200 else None))
    return views


def _ids(payload: Any) -> set[int]:
    items = payload if isinstance(payload, list) else payload.get("items", [])
    return {item.get("id", item.get("user_id")) for item in items if isinstance(item, dict)}


CASES = [
    pytest.param(resource, verb, outsider, id=f"{resource.name}-{verb}-{outsider}")
    for resource in RESOURCES
    for verb in resource.verbs
    for outsider in OUTSIDERS
]


@pytest.mark.parametrize(("resource", "verb", "outsider"), CASES)
def test_other_tenant_cannot_touch(
    client: TestClient, factory: Factory, resource: Resource, verb: str, outsider: str
) -> None:
    a = factory.tenant()
    created = resource.create(client, factory, a)
    before = _snapshot(client, factory, resource, a, created)
    b_admin = factory.tenant()
    b = b_admin if outsider == "admin" else factory.api_key(b_admin)

    if verb == "read":
        assert created.item_url is not None
        response = client.get(created.item_url, headers=b.headers)
        assert response.status_code == 404, response.text
    elif verb == "list":
        assert resource.list_for_outsider is not None
        url = resource.list_for_outsider(b, created)
        response = client.get(url, headers=b.headers)
        if response.status_code == 200:
            assert created.id not in _ids(response.json())
        else:
            assert response.status_code in (403, 404), response.text
    elif verb == "update":
        assert created.item_url is not None
        assert created.update_body is not None
        response = client.request(created.update_method, created.item_url, json=created.update_body, headers=b.headers)
        assert response.status_code in (403, 404), response.text
        if outsider == "admin":
            assert response.status_code == 404, response.text
    elif verb == "delete":
        assert created.item_url is not None
        response = client.delete(created.item_url, headers=b.headers)
        assert response.status_code in (403, 404), response.text
        if outsider == "admin":
            assert response.status_code == 404, response.text

    assert _snapshot(client, factory, resource, a, created) == before
