"""Health check and root info. Both public."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from greenline import __version__
from greenline.core.deps import RuntimeDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "error"]
    redis: Literal["ok", "error", "disabled"]
    mode: Literal["embedded", "scale"]
    version: str


class RootInfo(BaseModel):
    name: str
    version: str
    docs: str
    health: str
    api: str


@router.get("/api/v1/health/health", response_model=Health, responses={503: {"model": Health}})
def health(runtime: RuntimeDep) -> JSONResponse:
    """Check the database and, in scale mode, Redis. Public."""
    try:
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        database: Literal["ok", "error"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        database = "error"
    redis: Literal["ok", "error", "disabled"] = "disabled"
    if runtime.settings.scale_mode:
        try:
            redis = "ok" if runtime.counters.ping() else "error"
        except Exception:  # noqa: BLE001
            redis = "error"
    ok = database == "ok" and redis != "error"
    body = Health(
        status="ok" if ok else "degraded",
        database=database,
        redis=redis,
        mode="scale" if runtime.settings.scale_mode else "embedded",
        version=__version__,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/", response_model=RootInfo)
def root_info() -> RootInfo:
    """Name, version and where to go next. Public."""
    return RootInfo(name="Greenline", version=__version__, docs="/docs", health="/api/v1/health/health", api="/api/v1")
