"""One error hierarchy, rendered as `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class AppError(Exception):
    """An expected failure with an HTTP status, a stable code and a human message."""

    status = 400
    code = "bad_request"
    # When set, the request's unit of work commits before the error is returned
    # (e.g. revoking a session on refresh-token reuse must survive the 401).
    keep_changes = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.status = status or type(self).status
        self.details = details
        self.headers = headers


class NotFound(AppError):
    status = 404
    code = "not_found"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str = "Not authenticated", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kw)


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class InvalidInput(AppError):
    status = 422
    code = "validation_error"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", details=[{"field": field, "problem": problem}])


class TooManyRequests(AppError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            message,
            details={"retry_after": retry_after},
            headers={"Retry-After": str(max(1, retry_after))},
        )


class ServiceUnavailable(AppError):
    status = 503
    code = "unavailable"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declare expected error statuses for an endpoint so the OpenAPI document lists them."""
    return {status: {"model": ErrorResponse} for status in statuses}


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def install_error_handlers(app: FastAPI) -> None:
    """Render every failure in the one error shape."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": _field_name(err.get("loc", ())), "problem": str(err.get("msg", "invalid"))}
            for err in exc.errors()
        ]
        first = details[0] if details else {"field": "request", "problem": "invalid"}
        message = f"{first['field']}: {first['problem']}"
        return error_response(422, "validation_error", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, str(exc.detail), None, headers)

    @app.exception_handler(StatementError)
    async def _statement_error(request: Request, exc: StatementError) -> JSONResponse:
        # A value the database cannot store (a NUL byte in text, an out-of-range number) is bad input.
        if isinstance(exc, DataError) or isinstance(exc.orig, ValueError):
            log.info("request.data_error", error=str(exc.orig)[:200])
            reason = str(exc.orig).split("\n")[0][:200]
            return error_response(422, "invalid_value", f"a value could not be stored: {reason}")
        log.exception("request.unhandled_error", error=type(exc).__name__)
        return error_response(500, "internal_error", "Internal server error")

    @app.exception_handler(OperationalError)
    async def _operational_error(_: Request, exc: OperationalError) -> JSONResponse:
        # The database is unreachable or busy (e.g. SQLite locked): nothing was committed; retrying is safe.
        log.warning("request.database_unavailable", error=str(exc.orig)[:200])
        return error_response(
            503, "database_unavailable", "the database is busy or unreachable; retry", headers={"Retry-After": "1"}
        )

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        # Normally caught by services; this covers races between two requests.
        log.info("request.integrity_error", error=str(exc.orig)[:200])
        return error_response(409, "conflict", "the change conflicts with existing data")

    @app.exception_handler(Exception)
    async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
        log.exception("request.unhandled_error", error=type(exc).__name__)
        return error_response(500, "internal_error", "Internal server error")
