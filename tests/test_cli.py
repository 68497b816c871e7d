"""The `greenline` command: migrate, create-admin, create-tenant, and the demo that `make run` starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLINE_")}
    env.update(
        {
            "GREENLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "GREENLINE_SECRET_KEY": TEST_SECRET,
            "GREENLINE_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def _greenline(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "greenline.cli", *args],
        env=_env(tmp_path, **extra),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_create_admin_and_tenant(tmp_path: Path) -> None:
    assert _greenline(tmp_path, "migrate").returncode == 0
    admin = _greenline(tmp_path, "create-admin", "--email", "ops@example.com", "--password", "s3cret-pass-123")
    assert admin.returncode == 0, admin.stderr
    tenant = _greenline(
        tmp_path, "create-tenant", "Acme Corp", "--admin-email", "boss@acme.test", "--admin-password", "pw-123456789"
    )
    assert tenant.returncode == 0, tenant.stderr
    assert "acme-corp" in tenant.stdout
    bad = _greenline(tmp_path, "create-tenant", "Other", "--admin-email", "not-an-email")
    assert bad.returncode == 2
    missing_password = _greenline(tmp_path, "create-tenant", "Other", "--admin-email", "new@other.test")
    assert missing_password.returncode == 1
    assert "password" in missing_password.stdout


def test_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    result = _greenline(tmp_path, "worker")
    assert result.returncode == 2
    assert "GREENLINE_REDIS_URL" in result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def demo_server(tmp_path: Path) -> tuple[str, Path]:
    return f"http://127.0.0.1:{_free_port()}", tmp_path


def _run_demo(base: str, tmp_path: Path) -> subprocess.Popen[str]:
    port = base.rsplit(":", 1)[1]
    env = _env(tmp_path, GREENLINE_ADMIN_EMAIL="owner@demo.test", GREENLINE_ADMIN_PASSWORD="demo-pass-123")
    del env["GREENLINE_DATABASE_URL"]  # the demo's default: a SQLite file under ./var/
    return subprocess.Popen(
        [sys.executable, "-m", "greenline.cli", "demo", "--port", port],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_up(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"demo exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/api/v1/health/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    pytest.fail("demo did not start")


@pytest.mark.slow
def test_demo_serves_logs_in_and_keeps_data_across_runs(demo_server: tuple[str, Path]) -> None:
    base, tmp_path = demo_server
    for run in range(2):
        proc = _run_demo(base, tmp_path)
        try:
            _wait_up(base, proc)
            login = httpx.post(
                f"{base}/api/v1/auth/login-json", json={"email": "owner@demo.test", "password": "demo-pass-123"}
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            me = httpx.get(f"{base}/api/v1/auth/me", headers=headers).json()
            assert me["is_superadmin"] is True
            assert me["role"] == "admin"
            tenant_id = me["tenant_id"]
            keys = httpx.get(f"{base}/api/v1/tenants/{tenant_id}/api-keys", headers=headers).json()
            if run == 0:
                assert keys == []
                created = httpx.post(
                    f"{base}/api/v1/tenants/{tenant_id}/api-keys", json={"name": "kept"}, headers=headers
                )
                assert created.status_code == 201
            else:
                assert [k["name"] for k in keys] == ["kept"]
            assert httpx.get(f"{base}/docs").status_code == 200
        finally:
            proc.terminate()
            output = proc.communicate(timeout=30)[0]
        assert "owner@demo.test" in output
        assert "demo-pass-123" in output
    assert (tmp_path / "var" / "greenline.db").exists()
