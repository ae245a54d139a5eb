"""One error shape for every failure: `{"error": {"code": ..., "message": ...}}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from central.models import ErrorBody, ErrorResponse

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
}


class ApiError(Exception):
    """A failure the API reports to the client, with its status and stable error code."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """A JSON response in the common error shape."""
    body = ErrorResponse(error=ErrorBody(code=code, message=message))
    return JSONResponse(status_code=status, content=body.model_dump())


def _validation_message(exc: RequestValidationError) -> str:
    # Only locations and messages: pydantic's `input` would echo ID numbers and names back.
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "request does not match the API contract: " + "; ".join(parts)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    response = error_response(exc.status, exc.code, exc.message)
    response.headers.update(exc.headers)
    return response


def service_busy() -> ApiError:
    """503 `service_busy` with Retry-After: the database cannot take the request now."""
    message = "the service is busy; retry shortly"
    return ApiError(503, "service_busy", message, headers={"Retry-After": "1"})


async def _pool_exhausted(request: Request, _exc: Exception) -> JSONResponse:
    # No connection came within the pool's timeout: busy, not broken; the kiosk retries.
    return await _api_error(request, service_busy())


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", _validation_message(exc))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The server logs the traceback itself (Starlette re-raises after this handler answers).
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(500, "internal_error", "the central service failed; try again later")


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure through the common error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected)
