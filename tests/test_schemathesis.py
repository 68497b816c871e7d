"""Property-based fuzzing of the whole OpenAPI document: no input may produce a 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from greenline.demo import ensure_superadmin
from tests.factories import PASSWORD, Factory

EXAMPLES_PER_OPERATION = 40


def test_no_input_causes_a_server_error(client: TestClient, factory: Factory) -> None:
    # A superadmin who is also admin of a tenant reaches the most code.
    admin = factory.tenant()
    with factory.runtime.task_session() as session:
        ensure_superadmin(session, admin.email or "", PASSWORD)
    auth = factory.login(admin.email or "", tenant_id=admin.tenant_id).headers

    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    calls: list[int] = []

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            generated = {k.lower() for k in (case.headers or {})}
            headers = dict(case.headers or {})
            if "authorization" not in generated and "x-api-key" not in generated:
                headers.update(auth)
            response = case.call(headers=headers)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400 and "error" not in response.json():
                failures.append(f"{case.method} {case.formatted_path}: error body not in the standard shape")

        fuzz()

    assert operations > 20
    assert len(calls) > operations * 5
    assert any(status < 300 for status in calls)
    assert failures == [], "\n".join(failures[:20])
