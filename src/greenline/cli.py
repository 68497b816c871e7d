"""The `greenline` command."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from greenline.config import VAR_DIR, Settings, get_settings
from greenline.core import migrate as migrations
from greenline.imports.cli import import_app

app = typer.Typer(help="Greenline: multi-tenant WhatsApp marketing and CRM.", no_args_is_help=True)
console = Console()


def _serve(host: str | None, port: int | None, settings: Settings | None = None, workers: int = 1) -> None:
    from greenline.core.logging import configure_logging
    from greenline.inbound.standalone import ProcessorProcess, uses_processor_process

    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)  # the supervisor's own lines
    host, port = host or settings.host, port or settings.port
    if workers > 1 and not settings.is_postgres:
        raise typer.BadParameter("several workers need PostgreSQL (SQLite has one writer)", param_hint="--workers")
    processor: ProcessorProcess | None = None
    if uses_processor_process(settings):
        # Stored events are applied in a process of their own, so the web processes' event loops never
        # wait for the processor's GIL (see inbound/standalone.py).
        settings = settings.model_copy(update={"inbound_processor": "process"})
        os.environ["GREENLINE_INBOUND_PROCESSOR"] = "process"  # for workers, which read the environment
        processor = ProcessorProcess(settings)
        processor.start()
    try:
        if workers > 1:
            # Each worker process builds its own app and runtime from the environment.
            uvicorn.run(
                "greenline.app:create_app", factory=True, host=host, port=port, workers=workers, log_config=None
            )
            return
        from greenline.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
    finally:
        if processor is not None:
            processor.stop()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default GREENLINE_PORT or 8000)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Server processes (default GREENLINE_WEB_CONCURRENCY or 1)")
    ] = None,
) -> None:
    """Serve the API (and, in embedded mode, run the jobs in-process)."""
    _serve(host, port, workers=workers or get_settings().web_concurrency)


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply database migrations."""
    migrations.upgrade(get_settings(), revision)
    console.print(f"[green]database migrated to {revision}[/green]")


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
) -> None:
    """Migrate, seed the demo tenant and serve: the embedded default in one command."""
    from greenline.demo import seed_demo
    from greenline.wiring import make_runtime

    # The demo shows simulated customers writing in, unless explicitly turned off.
    settings = get_settings()
    if "demo_traffic" not in settings.model_fields_set:
        settings = settings.model_copy(update={"demo_traffic": True})
    migrations.upgrade(settings)
    runtime = make_runtime(settings, run_schedules=False)
    tenant = seed_demo(runtime)
    runtime.close()
    url = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"\n[bold green]Greenline is starting at {url}[/bold green]  (API docs: {url}/docs)")
    console.print(f"  demo tenant: {tenant.name} (id {tenant.id})")
    console.print(f"  login:       {settings.admin_email}")
    console.print(f"  password:    {settings.admin_password}\n")
    _serve(host, port, settings)


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create (or promote) a platform superadmin."""
    from greenline.demo import ensure_superadmin
    from greenline.wiring import make_runtime

    runtime = make_runtime(get_settings(), run_schedules=False)
    with runtime.task_session() as session:
        user = ensure_superadmin(session, email, password)
    runtime.close()
    console.print(f"[green]superadmin {user.email} (id {user.id}) is ready[/green]")


@app.command("create-tenant")
def create_tenant(
    name: Annotated[str, typer.Argument(help="Tenant name")],
    admin_email: Annotated[str, typer.Option(help="Email of the tenant's first admin")],
    admin_password: Annotated[str | None, typer.Option(help="Password, if the admin account is new")] = None,
    plan: Annotated[str, typer.Option(help="Plan")] = "free",
) -> None:
    """Create a tenant with its first admin."""
    from pydantic import ValidationError

    from greenline.core.errors import AppError
    from greenline.tenants.schemas import TenantCreate
    from greenline.tenants.service import create_tenant as create
    from greenline.wiring import make_runtime

    try:
        data = TenantCreate.model_validate(
            {"name": name, "plan": plan, "admin": {"email": admin_email, "role": "admin", "password": admin_password}}
        )
    except ValidationError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    runtime = make_runtime(get_settings(), run_schedules=False)
    try:
        with runtime.task_session() as session:
            tenant = create(session, data)
    except AppError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    finally:
        runtime.close()
    console.print(f"[green]tenant {tenant.name} created (id {tenant.id}, slug {tenant.slug})[/green]")


@app.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues")] = "default,imports,webhooks,dispatch,inbound",
    concurrency: Annotated[int, typer.Option(help="Worker processes")] = 2,
    hostname: Annotated[str | None, typer.Option(help="Node name, unique per worker on one host (e.g. w1@%h)")] = None,
) -> None:
    """Run a Celery worker (scale mode: needs GREENLINE_REDIS_URL)."""
    _require_redis()
    from greenline.worker import celery_app

    argv = ["worker", "--loglevel=INFO", f"--queues={queues}", f"--concurrency={concurrency}"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    celery_app.worker_main(argv)


@app.command()
def beat() -> None:
    """Run Celery beat, which enqueues the periodic jobs (scale mode)."""
    _require_redis()
    from greenline.worker import celery_app

    VAR_DIR.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule state there
    celery_app.start(["beat", "--loglevel=INFO", f"--schedule={VAR_DIR / 'celerybeat-schedule'}"])


def _require_redis() -> None:
    if not get_settings().redis_url:
        console.print("[red]GREENLINE_REDIS_URL is not set: the worker and beat are for scale mode[/red]")
        raise typer.Exit(2)


app.add_typer(import_app, name="import")  # `greenline import contacts FILE --tenant ...`

if __name__ == "__main__":
    app()
