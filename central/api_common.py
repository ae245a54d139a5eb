"""What the routers of central's feature modules share: database sessions, settings, keys.

They read the state `create_app` stores on the app, so they need not import `central.app` (which
includes them).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from central.errors import ApiError
from central.models import ErrorResponse

# Printable ASCII without space (0x21-0x7E), as the published schema says.
IDEMPOTENCY_KEY_PATTERN = "^[!-~]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


def app_state(request: Request) -> Any:
    """The `central.app.AppState` of the running app."""
    return request.app.state.central


async def _session(request: Request) -> AsyncIterator[Session]:
    # A slot first (central.db_slots), so the pool always has a connection for this session;
    # closed in a worker thread (PostgreSQL's rollback is a round trip), and right after the
    # endpoint returns (scope="function"), before the response is validated and sent.
    state = app_state(request)
    async with state.db_slots.held():
        session = state.sessions()
        try:
            yield session
        finally:
            await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(_session, scope="function")]
StateDep = Annotated[Any, Depends(app_state)]


def checked_key(idempotency_key: str | None) -> str:
    """The Idempotency-Key, or 400 `idempotency_key_missing` / `idempotency_key_invalid`."""
    if idempotency_key is None:
        raise ApiError(400, "idempotency_key_missing", "the Idempotency-Key header is required")
    if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ApiError(400, "idempotency_key_invalid", "Idempotency-Key: 1-255 printable ASCII")
    return idempotency_key


def _required_idempotency_key(request: Request) -> str:
    # Read by hand, not declared with Header(): a missing or malformed key is a 400 with its own
    # code (kiosks and their outboxes act on it), not FastAPI's generic 422.
    return checked_key(request.headers.get("idempotency-key"))


# The key of a state-changing POST, checked; the route documents it with IDEMPOTENCY_KEY_HEADER.
RequiredIdempotencyKey = Annotated[str, Depends(_required_idempotency_key)]
# `openapi_extra` of those routes: the header as the service enforces it (required, pattern).
IDEMPOTENCY_KEY_HEADER: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": "Unique per request, 1-255 printable ASCII characters (0x21-0x7E); "
            "missing is 400 `idempotency_key_missing`, malformed 400 `idempotency_key_invalid`.",
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
        }
    ]
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses."""
    return {status: {"model": ErrorResponse} for status in statuses}


def public_base(state: Any, request: Request) -> str:
    """Base URL for links printed or shown to people: the configured one, never the Host header."""
    base: str = state.public_base_url
    return base.rstrip("/")
