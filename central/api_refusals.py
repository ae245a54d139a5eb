"""Answers given before a route's handler runs, written into the published OpenAPI document.

The kiosk guard (`central.auth`, one app-wide dependency), the body limits (`central.limits`, a
middleware) and the JSON parser answer for every route, and FastAPI cannot see them; so
`document_refusals(app)` has the generated document list them on each operation they apply to.
A client reading the schema then knows every status it can get.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from central import auth

SIGNATURE_NOTE = (
    "\n\nNeeds a kiosk signature (RFC 9421 `Signature-Input` / `Signature` over method, path, "
    "query and RFC 9530 `Content-Digest`; see docs/trust.md): 401 without a valid one."
)
_SIGNED: dict[int, str] = {
    401: "Not signed by an enrolled kiosk: `unauthenticated`, `bad_signature`, "
    "`stale_signature`, `replayed`, `unknown_kiosk` or `revoked`.",
    403: "`kiosk_mismatch`: the `kiosk_id` in the body or query is not the signing kiosk's.",
}
_RATE_LIMITED = "`rate_limited`: too many requests of this kind from this kiosk; see `Retry-After`."
_WITH_BODY: dict[int, str] = {
    400: "`bad_request`: the body is not JSON.",
    408: "`body_timeout`: the body stopped arriving.",
    413: "`body_too_large`: the body is over the service's limit.",
}
_ANY: dict[int, str] = {
    503: "`service_busy` (no database connection came free in time; see `Retry-After`) or, on "
    "signed routes, `replay_cache_full`.",
}


def is_signed(path: str) -> bool:
    """Whether the route template `path` needs a kiosk signature (as `central.auth` decides)."""
    return path not in auth.PUBLIC_ROUTES and not path.startswith(auth.DEV_PREFIX)


def document_refusals(app: FastAPI) -> None:
    """Make `app.openapi()` list the guard's, the limits' and the parser's answers."""
    generate = app.openapi
    documented: list[dict[str, Any]] = []  # the document already completed, if any

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI builds it once and keeps it
        if not documented or documented[0] is not document:
            _add_refusals(document)
            documented[:] = [document]
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _add_refusals(document: dict[str, Any]) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            refusals = dict(_ANY)
            if "requestBody" in operation:
                refusals.update(_WITH_BODY)
            if is_signed(path):
                refusals.update(_SIGNED)
                if path in auth.RATE_LIMITED:
                    refusals[429] = _RATE_LIMITED
                operation["description"] = operation.get("description", "") + SIGNATURE_NOTE
            responses = operation.setdefault("responses", {})
            for status, description in sorted(refusals.items()):
                responses.setdefault(str(status), {"description": description, "content": error})
