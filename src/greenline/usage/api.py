"""Usage statistics of a tenant."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from greenline.auth.dependencies import PrincipalDep, principal_in_tenant
from greenline.core.deps import RuntimeDep, SessionDep
from greenline.core.errors import InvalidInput, responses
from greenline.core.permissions import Permission
from greenline.core.types import TenantIdPath
from greenline.usage import service
from greenline.usage.schemas import UsageVsPlan

router = APIRouter(prefix="/tenants/{tenant_id}/usage", tags=["usage"])


@router.get("/stats", response_model=UsageVsPlan, responses=responses(401, 403, 404, 422))
def get_usage_stats(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    tenant_id: TenantIdPath,
    start: Annotated[dt.date | None, Query(description="First day (UTC), default 30 days ago")] = None,
    end: Annotated[dt.date | None, Query(description="Last day (UTC), default today")] = None,
) -> UsageVsPlan:
    """Daily API calls and messages sent for the tenant, and this month's use against its plan."""
    principal_in_tenant(session, principal, tenant_id, Permission.usage_read)
    today = dt.datetime.now(dt.UTC).date()
    end = end or today
    start = start or end - dt.timedelta(days=29)
    if start > end:
        raise InvalidInput("start", "must not be after end")
    if (end - start).days > 366:
        raise InvalidInput("start", "range is limited to 366 days")
    runtime.meter.push()
    return service.usage_vs_plan(session, runtime.counters, tenant_id, start, end, today)
