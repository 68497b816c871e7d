"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from greenline import __version__
from greenline.apikeys.api import router as apikeys_router
from greenline.auth.api import router as auth_router
from greenline.campaigns.api import contact_router as campaign_contacts_router
from greenline.campaigns.api import router as campaigns_router
from greenline.campaigns.drip_api import router as drip_router
from greenline.channels.api import router as channels_router
from greenline.config import Settings, get_settings
from greenline.contacts.api import router as contacts_router
from greenline.conversations.api import router as conversations_router
from greenline.core.errors import install_error_handlers
from greenline.core.logging import configure_logging
from greenline.core.middleware import RejectNulMiddleware, RequestContextMiddleware
from greenline.core.runtime import Runtime
from greenline.health.api import router as health_router
from greenline.imports.api import router as imports_router
from greenline.inbound.api import router as inbound_router
from greenline.inbound.fastpath import WhatsAppWebhookFastPath
from greenline.leads.api import router as leads_router
from greenline.optouts.api import router as optouts_router
from greenline.segments.api import router as segments_router
from greenline.tenants.api import router as tenants_router
from greenline.usage import service as usage
from greenline.usage.api import router as usage_router
from greenline.users.api import router as users_router
from greenline.webhooks.api import router as webhooks_router
from greenline.webui import install_webui
from greenline.wiring import make_runtime

log = structlog.get_logger(__name__)


API_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    users_router,
    tenants_router,
    apikeys_router,
    usage_router,
    leads_router,
    conversations_router,
    contacts_router,
    imports_router,
    segments_router,
    optouts_router,
    channels_router,
    campaigns_router,
    drip_router,
    campaign_contacts_router,
    # Provider webhooks (/webhooks/whatsapp, /webhooks/baileys) before the tenant webhook routes,
    # whose /webhooks/{id} would otherwise match first.
    inbound_router,
    webhooks_router,
)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    runtime = runtime or make_runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.runner.start()
        stop_pusher = usage.start_meter_pusher(runtime)
        try:
            yield
        finally:
            stop_pusher.set()
            runtime.meter.push()
            runtime.stop_services()
            if not settings.scale_mode:
                with runtime.task_session() as session:
                    usage.flush_pending(session, runtime.counters)
            runtime.runner.stop()

    app = FastAPI(
        title="Greenline API",
        version=__version__,
        description="Multi-tenant WhatsApp marketing and CRM platform.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health_router)
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api/v1")

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics. Public (scrape it from inside the network)."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    install_webui(app)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(
        RequestContextMiddleware,
        on_tenant_request=lambda tenant_id: usage.record(runtime.meter, tenant_id, "api_calls"),
    )
    # Outermost: Meta's webhook POSTs skip the stack above (inbound/fastpath.py).
    app.add_middleware(WhatsAppWebhookFastPath, runtime=runtime)
    return app
