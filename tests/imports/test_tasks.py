"""The import job: all-or-nothing under cancel and failure, restarts, limits and duplicate deliveries."""

from __future__ import annotations

import threading
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from greenline.core.db import utcnow
from greenline.core.runtime import Runtime
from greenline.imports import apply, parallel, pipeline, tasks
from greenline.models import ContactImport
from greenline.models.enums import ImportStatus
from tests.factories import Factory
from tests.imports.helpers import contacts, error_rows, run_import, upload, wait_done
from tests.imports.messy import messy_file, to_csv

MAPPING = {"Phone": "phone", "Full Name": "name", "E-mail": "email", "Tags": "tags", "City": "custom.city"}


def test_cancel_while_running_writes_no_contact(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 100)
    reached, release = threading.Event(), threading.Event()
    report = pipeline.report_progress

    def paused(runtime: Runtime, claimed: pipeline.Claimed, processed: int, errors: int) -> bool:
        if processed >= 300:
            reached.set()
            release.wait(30)
        return report(runtime, claimed, processed, errors)

    monkeypatch.setattr(pipeline, "report_progress", paused)
    admin = factory.tenant()
    messy = messy_file(1000)
    created = upload(client, admin, to_csv(messy.rows).encode(), start=True, mapping=MAPPING).json()
    assert reached.wait(30)

    running = client.get(f"/api/v1/contacts/imports/{created['id']}", headers=admin.headers).json()
    assert running["status"] == "running"
    assert running["processed_rows"] == 200  # the batches reported so far are visible while the job runs
    assert 0 < running["percent"] < 100
    cancel = client.post(f"/api/v1/contacts/imports/{created['id']}/cancel", headers=admin.headers)
    assert cancel.status_code == 200, cancel.text
    assert (cancel.json()["status"], cancel.json()["cancel_requested"]) == ("cancelled", True)
    release.set()  # the job sees the cancel at its next batch and rolls back

    done = wait_done(client, admin, created["id"])
    assert done["status"] == "cancelled"
    assert (done["created_count"], done["updated_count"]) == (0, 0)
    assert contacts(factory.runtime, admin.tenant_id) == []
    assert error_rows(factory.runtime, admin.tenant_id, created["id"]) == []
    again = client.post(f"/api/v1/contacts/imports/{created['id']}/cancel", headers=admin.headers)
    assert again.status_code == 409


def test_failure_inside_the_apply_transaction_writes_nothing_and_can_restart(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = factory.tenant()
    messy = messy_file(500)
    # The error report is written after the contacts, in the same transaction: breaking it must undo them.
    monkeypatch.setattr(apply, "_ERRORS", "INSERT INTO no_such_table SELECT 1")

    failed = run_import(client, admin, to_csv(messy.rows).encode(), mapping=MAPPING)

    assert failed["status"] == "failed"
    assert "unexpected error" in failed["error"]
    assert "no contact was written" in failed["error"]
    assert contacts(factory.runtime, admin.tenant_id) == []

    monkeypatch.undo()
    restarted = client.post(f"/api/v1/contacts/imports/{failed['id']}/start", json={}, headers=admin.headers)
    assert restarted.status_code == 200, restarted.text
    done = wait_done(client, admin, failed["id"])
    assert done["status"] == "completed"
    assert done["created_count"] == len(messy.valid_e164)
    assert done["error_count"] == len(messy.error_rows)
    assert len(contacts(factory.runtime, admin.tenant_id)) == len(messy.valid_e164)


def test_file_that_breaks_after_some_rows_fails_cleanly(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 200)
    admin = factory.tenant()
    messy = messy_file(2000)
    content = to_csv(messy.rows).encode() + "+14155550100,Caf\xe9 Owner,,,\r\n".encode("cp1252")
    assert len(content) > 70_000  # the bad byte is beyond the part that detection reads

    failed = run_import(client, admin, content, mapping=MAPPING)

    assert failed["status"] == "failed"
    assert failed["encoding"] == "utf-8"
    assert "not valid utf-8" in failed["error"]
    assert "encoding" in failed["error"]
    assert failed["processed_rows"] >= 1800  # several batches were staged before the bad byte
    assert contacts(factory.runtime, admin.tenant_id) == []

    body = {"encoding": "latin-1", "mapping": MAPPING}
    restarted = client.post(f"/api/v1/contacts/imports/{failed['id']}/start", json=body, headers=admin.headers)
    assert restarted.status_code == 200, restarted.text
    done = wait_done(client, admin, failed["id"])
    assert done["status"] == "completed"
    assert done["created_count"] == len(messy.valid_e164) + 1


def test_more_rows_than_the_limit_fail_without_writing(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "MAX_ROWS", 50)
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 20)
    admin = factory.tenant()
    failed = run_import(client, admin, to_csv(messy_file(100).rows).encode(), mapping=MAPPING)
    assert failed["status"] == "failed"
    assert "more than 50 data rows" in failed["error"]
    assert contacts(factory.runtime, admin.tenant_id) == []


def test_waiting_import_cancels_at_once_and_restarts(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    created = upload(client, admin, b"phone\n+14155550100\n").json()
    url = f"/api/v1/contacts/imports/{created['id']}"

    cancelled = client.post(f"{url}/cancel", headers=admin.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"

    assert client.post(f"{url}/start", json={}, headers=admin.headers).status_code == 200
    assert wait_done(client, admin, created["id"])["status"] == "completed"
    again = client.post(f"{url}/start", json={}, headers=admin.headers)
    assert again.status_code == 409
    assert "completed" in again.json()["error"]["message"]
    assert client.post(f"{url}/cancel", headers=admin.headers).status_code == 409


def test_a_second_delivery_of_the_job_does_nothing(client: TestClient, factory: Factory) -> None:
    admin = factory.tenant()
    done = run_import(client, admin, b"phone\n+14155550100\n+14155550101\n")
    assert done["created_count"] == 2
    assert admin.tenant_id is not None

    assert pipeline.run_import(factory.runtime, admin.tenant_id, done["id"]) is None

    after: dict[str, Any] = client.get(f"/api/v1/contacts/imports/{done['id']}", headers=admin.headers).json()
    assert (after["status"], after["created_count"]) == (ImportStatus.completed, 2)
    assert len(contacts(factory.runtime, admin.tenant_id)) == 2


def test_completed_import_removes_its_upload(client: TestClient, factory: Factory, upload_dir: Path) -> None:
    admin = factory.tenant()
    done = run_import(client, admin, b"phone\n+14155550100\n")
    assert done["status"] == "completed"
    deadline = time.monotonic() + 10  # the job removes the file right after its commit
    while list(upload_dir.rglob("*.csv")):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_phone_pool_for_large_files_gives_the_same_result(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ROWS", 0)  # worker processes even for this small file
    monkeypatch.setattr(pipeline, "BATCH_ROWS", 500)
    admin = factory.tenant()
    messy = messy_file(3000)

    done = run_import(client, admin, to_csv(messy.rows).encode(), mapping=MAPPING)

    assert done["status"] == "completed", done
    assert (done["created_count"], done["skipped_count"]) == (len(messy.valid_e164), len(messy.duplicate_rows))
    assert done["error_count"] == len(messy.error_rows)
    stored = contacts(factory.runtime, admin.tenant_id)
    assert sorted(c.phone for c in stored) == sorted(messy.valid_e164)
    assert all(c.timezone for c in stored)


def test_a_broken_phone_pool_falls_back_to_inline_parsing() -> None:
    class BrokenPool:
        def submit(self, *args: Any) -> Any:
            raise BrokenProcessPool("worker died")

    chunks = [[(2, ["+1 415 555 0100", "Ann"])], [(3, ["12", "Bob"])]]
    results = list(parallel.with_phones(chunks, BrokenPool(), 0, "US"))  # type: ignore[arg-type]
    assert [chunk for chunk, _ in results] == chunks
    assert results[0][1] == [("+14155550100", "US", "America/Los_Angeles", "en")]
    assert results[1][1] is not None
    assert isinstance(results[1][1][0], str)


def test_uploads_of_unfinished_imports_are_purged_after_the_retention(
    client: TestClient, factory: Factory, upload_dir: Path
) -> None:
    admin = factory.tenant()
    created = upload(client, admin, b"phone\n+14155550100\n").json()
    assert len(list(upload_dir.rglob("*.csv"))) == 1
    assert tasks.purge_uploads() == 0  # still within the retention period

    with factory.runtime.task_session(admin.tenant_id) as session:
        session.execute(update(ContactImport).values(created_at=utcnow() - tasks.UPLOAD_RETENTION))
    assert tasks.purge_uploads() == 1
    assert tasks.purge_uploads() == 0

    assert list(upload_dir.rglob("*.csv")) == []
    start = client.post(f"/api/v1/contacts/imports/{created['id']}/start", json={}, headers=admin.headers)
    assert start.status_code == 409
    assert "upload it again" in start.json()["error"]["message"]
