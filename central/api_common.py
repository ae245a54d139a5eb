"""What the routers of central's feature modules share: database sessions, settings, keys.

They read the state `create_app` stores on the app, so they need not import `central.app` (which
includes them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session

from central.errors import ApiError
from central.models import ErrorResponse

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def app_state(request: Request) -> Any:
    """The `central.app.AppState` of the running app."""
    return request.app.state.central


def _session(request: Request) -> Iterator[Session]:
    with app_state(request).sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]
StateDep = Annotated[Any, Depends(app_state)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Unique per request, 1-255 printable ASCII characters.",
    ),
]


def checked_key(idempotency_key: str | None) -> str:
    """The Idempotency-Key, or 400 `idempotency_key_missing` / `idempotency_key_invalid`."""
    if idempotency_key is None:
        raise ApiError(400, "idempotency_key_missing", "the Idempotency-Key header is required")
    if not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise ApiError(400, "idempotency_key_invalid", "Idempotency-Key: 1-255 printable ASCII")
    return idempotency_key


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses."""
    return {status: {"model": ErrorResponse} for status in statuses}


def public_base(state: Any, request: Request) -> str:
    """Base URL for links printed or shown to people: the configured one, else the request's."""
    base: str = state.public_base_url or str(request.base_url)
    return base.rstrip("/")
