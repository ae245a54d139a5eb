"""Who is calling: every kiosk call is signed (trust/), tied to that kiosk, and rate-limited.

`install(app, registry)` adds one app-wide dependency, before the routers are included. It
admits without a signature only what people (not kiosks) open: the health probe, the certificate
check a phone opens from a printed QR code, the phone guide page, and the development-only `/dev/`
routes (they play the government app and the hall staff; production apps have none).

Every other request must carry a valid kiosk signature (401 otherwise). A `kiosk_id` the client
names in its JSON body or query must be the signing kiosk's (403 `kiosk_mismatch`), so a request
can only ever act as the kiosk that signed it. Identity checks and ratings are rate-limited per
kiosk with `limits` (429 `rate_limited` + `Retry-After`); the storage is in memory by default,
`redis://...` when several replicas must share the counts (docs/trust.md).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Depends, FastAPI, Request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from central.errors import ApiError
from central.models import KIOSK_ID_PATTERN
from trust.asgi import kiosk_auth
from trust.keys import KioskRegistry
from trust.signing import AuthError, ReplayCache, SignatureVerifier

log = logging.getLogger(__name__)

# Route templates (as declared) that need no kiosk signature.
PUBLIC_ROUTES = frozenset(
    {
        "/api/v1/health",
        "/api/v1/certificates/{certificate_no}/verification",
        "/guides/{item_code}",
    }
)
DEV_PREFIX = "/api/v1/dev/"

# Which routes spend from which per-kiosk budget.
RATE_LIMITED = {
    "/api/v1/identity/verify": "identity",
    "/api/v1/identity/eid": "identity",
    "/api/v1/identity/face": "identity",
    "/api/v1/ratings": "ratings",
}
APPLICATIONS = "/api/v1/applications"
_KIOSK_ID = re.compile(KIOSK_ID_PATTERN)


@dataclass(frozen=True)
class AuthSettings:
    """Signature window and the per-kiosk limits (`limits` notation; all must hold)."""

    window_s: float = 300.0
    # A burst of 10 in 10 s (a card read, an e-ID, three face tries, a rating), 30 a minute.
    identity_limits: str = "10/10 seconds;30/minute"
    rating_limits: str = "10/10 seconds;30/minute"
    # "memory://" for one process; "redis://host:6379/0" shares counts between replicas.
    rate_limit_storage: str = "memory://"
    clock: Callable[[], float] = field(default=time.time)


class KioskGate:
    """The verifier and the rate limiter of one app."""

    def __init__(self, registry: KioskRegistry, settings: AuthSettings) -> None:
        self.settings = settings
        self.verifier = SignatureVerifier(
            registry, window_s=settings.window_s, clock=settings.clock, replay_cache=ReplayCache()
        )
        self._limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        self._limits: dict[str, list[RateLimitItem]] = {
            "identity": parse_many(settings.identity_limits),
            "ratings": parse_many(settings.rating_limits),
        }

    def spend(self, budget: str, kiosk_id: str) -> None:
        """Take one request from the kiosk's budget, or 429 with when to try again."""
        for limit in self._limits[budget]:
            if not self._limiter.hit(limit, budget, kiosk_id):
                stats = self._limiter.get_window_stats(limit, budget, kiosk_id)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise ApiError(
                    429,
                    "rate_limited",
                    f"too many {budget} requests from this kiosk; try again later",
                    headers={"Retry-After": str(retry_after)},
                )


def _auth_error(error: AuthError) -> Exception:
    # Refusals are logged by code and never with the request's content.
    log.info("kiosk request refused: %s", error.code)
    headers = {"WWW-Authenticate": "Signature"} if error.status == 401 else None
    return ApiError(error.status, error.code, error.message, headers=headers)


def _gate(request: Request) -> KioskGate:
    gate: KioskGate = request.app.state.kiosk_gate
    return gate


_authenticate = kiosk_auth(lambda request: _gate(request).verifier, on_error=_auth_error)


def _json_object(request: Request, body: bytes) -> dict[str, Any]:
    if not body or not request.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        return {}  # the endpoint answers 422 itself
    return document if isinstance(document, dict) else {}


def _claimed_kiosk_ids(request: Request, document: dict[str, Any]) -> list[str]:
    """The kiosk ids the client names: the `kiosk_id` query parameter and JSON body field."""
    claimed = request.query_params.getlist("kiosk_id")
    if isinstance(document.get("kiosk_id"), str):
        claimed.append(document["kiosk_id"])
    # A malformed id is not a claim to be someone else; validation answers it with 422.
    return [value for value in claimed if _KIOSK_ID.match(value)]


def _budget(template: str, request: Request, document: dict[str, Any]) -> str | None:
    # An application for someone else (代办) checks a typed name and number against the
    # registry: it spends from the identity budget like any other identity check.
    if template == APPLICATIONS and request.method == "POST" and document.get("agent"):
        return "identity"
    return RATE_LIMITED.get(template)


async def require_kiosk(request: Request) -> str | None:
    """The app-wide dependency: the authenticated kiosk id, or None on a public route."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    if template in PUBLIC_ROUTES or template.startswith(DEV_PREFIX):
        return None
    kiosk_id = await _authenticate(request)
    document = _json_object(request, await request.body())
    for claimed in _claimed_kiosk_ids(request, document):
        if claimed != kiosk_id:
            raise ApiError(403, "kiosk_mismatch", "kiosk_id is not the kiosk that signed")
    budget = _budget(template, request, document)
    if budget is not None:
        _gate(request).spend(budget, kiosk_id)
    return kiosk_id


def install(app: FastAPI, registry: KioskRegistry | None, settings: AuthSettings | None) -> None:
    """Guard every route included after this call. No registry: no kiosk is admitted."""
    if registry is None:
        log.warning("central: no kiosk registry given; every kiosk call will be refused")
        registry = KioskRegistry.in_memory()
    app.state.kiosk_gate = KioskGate(registry, settings or AuthSettings())
    app.router.dependencies.append(Depends(require_kiosk))
    _document_refusals(app)


_REFUSALS = {
    "401": "Not signed by an enrolled kiosk, or stale, replayed or revoked (docs/trust.md).",
    "403": "`kiosk_mismatch`: the request names another kiosk than the one that signed it.",
}


def _document_refusals(app: FastAPI) -> None:
    """Add the gate's answers to the OpenAPI document, so a contract tester expects them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        for path, operations in document.get("paths", {}).items():
            if path in PUBLIC_ROUTES or path.startswith(DEV_PREFIX):
                continue
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                for status, text in _REFUSALS.items():
                    answers.setdefault(status, {"description": text, "content": error})
                if path in RATE_LIMITED:
                    answers.setdefault(
                        "429",
                        {"description": "`rate_limited`: wait `Retry-After` s.", "content": error},
                    )
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
